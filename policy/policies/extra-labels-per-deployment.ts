/**
 * EXTRA_LABELS whose values look unique per deployment (UUIDs, timestamps, git SHAs): every
 * deployment then starts a new set of streams for every source. Only values that reach Loki
 * (after DROP_LABELS and RELABEL_CONFIGS, under whatever name) are reported.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { finalLabelSets } from "../analysis/cardinality";
import { perDeploymentShape } from "../analysis/deployment-values";
import { shipperLabels } from "../lib/label-analysis";
import { functionRef, labelsPhrase, setting } from "../lib/messages";
import { configOf, LOW_CARDINALITY_LABELS_SCHEMA } from "../lib/policy-config";
import { EVERY_KIND } from "../lib/environment";
import { validateEachShipper } from "../lib/validation";

export interface ExtraLabelsConfig {
  lowCardinalityLabels: string[];
}

const DEFAULTS: ExtraLabelsConfig = { lowCardinalityLabels: [] };

export const extraLabelsPerDeployment: StackValidationPolicy = {
  name: "extra-labels-per-deployment",
  description: "EXTRA_LABELS should not carry values unique per deployment (UUIDs, timestamps, git SHAs): each deployment would start new streams.",
  enforcementLevel: "advisory",
  severity: "medium",
  configSchema: { properties: { lowCardinalityLabels: LOW_CARDINALITY_LABELS_SCHEMA } },
  validateStack: validateEachShipper(EVERY_KIND, (shipper, stack, args, report) => {
    const labels = shipperLabels(shipper, stack);
    if (!labels) return;
    const allowed = new Set(configOf(args, DEFAULTS).lowCardinalityLabels);
    const finals = labels.templates.flatMap((t) => finalLabelSets(t.base, labels.pipeline, labels.stages)).filter((f) => f !== null);
    for (const [name, value] of Object.entries(labels.config.extraLabels)) {
      const shape = perDeploymentShape(value);
      if (!shape || allowed.has(name)) continue;
      // Relabeling may rename the label: follow the value.
      const landing = [...new Set(finals.flatMap((f) => Object.keys(f).filter((n) => f[n] === value)))].filter((n) => !allowed.has(n));
      if (landing.length === 0) continue;
      report(
        `${setting("EXTRA_LABELS", shipper.env.kind)} on ${functionRef(shipper.name, shipper.env.kind)} sets ${name}="${value}", which looks like ${shape}: it reaches Loki as ${labelsPhrase(landing)}, ` +
          `so every deployment that changes it starts a new set of streams for every source, and queries over time must stitch them together. ` +
          `Fix: remove it from EXTRA_LABELS (put the version in the log lines, or in a label with a stable value such as an environment name); ` +
          `if the value does not change between deployments, add the label to this policy's lowCardinalityLabels.`,
      );
    }
  }),
};
