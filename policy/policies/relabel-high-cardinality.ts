/**
 * Relabel rules that put a high-cardinality value (a log stream, a date-partitioned key
 * prefix) into a label, and `labelmap` rules that copy every `__aws_*` label. Both are found by
 * running the rules with the handler's relabel engine on each configured source's labels, then
 * the stages of LOKI_STAGE_CONFIGS (a labels stage can copy a label too; the message says which
 * setting does it). Labels the stages make of values parsed from the log line are judged by
 * stage-label-high-cardinality.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { blanketLabelMaps, findLeaks, Leak } from "../analysis/cardinality";
import { shipperLabels, sourcesNote } from "../lib/label-analysis";
import { functionRef, labelsPhrase, quoteList, setting } from "../lib/messages";
import { configOf, LOW_CARDINALITY_LABELS_SCHEMA } from "../lib/policy-config";
import { EVERY_KIND } from "../lib/environment";
import { validateEachShipper } from "../lib/validation";

export interface RelabelHighCardinalityConfig {
  lowCardinalityLabels: string[];
}

const DEFAULTS: RelabelHighCardinalityConfig = { lowCardinalityLabels: [] };

export const relabelHighCardinality: StackValidationPolicy = {
  name: "relabel-high-cardinality",
  description: "RELABEL_CONFIGS must not copy high-cardinality values (log streams, per-object key prefixes) into labels, nor labelmap every __aws_* label.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: { properties: { lowCardinalityLabels: LOW_CARDINALITY_LABELS_SCHEMA } },
  validateStack: validateEachShipper(EVERY_KIND, (shipper, stack, args, report) => {
    const labels = shipperLabels(shipper, stack);
    if (!labels) return;
    const { lowCardinalityLabels } = configOf(args, DEFAULTS);
    const allowed = new Set(lowCardinalityLabels);

    for (const index of blanketLabelMaps(labels.config.relabelRules)) {
      const rule = labels.config.relabelRules[index];
      report(
        `${setting("RELABEL_CONFIGS", shipper.env.kind)} rule ${index} on ${functionRef(shipper.name, shipper.env.kind)} (labelmap, regex "${rule.regexSource}") copies every __aws_* label into a label of its own: ` +
          `it doubles the label count and turns every internal label of every source into a stream label, today's and any added later (with KEEP_STREAM, the log stream too). ` +
          `Fix: copy the labels you query by name, e.g. {"source_labels":["__aws_cloudwatch_log_group"],"target_label":"log_group"}, or list them in the regex, e.g. "__aws_(log_type|cloudwatch_log_group)".`,
      );
    }

    // One report per high-cardinality label, over every source it leaks from.
    const byLabel = new Map<string, Leak[]>();
    // Which leaks the relabel rules alone cause; the others come from the stages.
    const byRelabel = new Set(labels.stages ? labels.templates.flatMap((t) => findLeaks(t, labels.pipeline)).flatMap((l) => l.into.map((n) => `${l.label}>${n}`)) : []);
    const culprits = (label: string, into: readonly string[]): string => {
      if (!labels.stages) return setting("RELABEL_CONFIGS", shipper.env.kind);
      const relabel = into.filter((n) => byRelabel.has(`${label}>${n}`)).length;
      return [relabel > 0 ? setting("RELABEL_CONFIGS", shipper.env.kind) : "", relabel < into.length ? setting("LOKI_STAGE_CONFIGS", shipper.env.kind) : ""].filter(Boolean).join(" and ") || setting("RELABEL_CONFIGS", shipper.env.kind);
    };
    for (const leak of labels.templates.flatMap((t) => findLeaks(t, labels.pipeline, labels.stages))) {
      const into = leak.into.filter((name) => !(name === leak.label && leak.passesThrough) && !allowed.has(name));
      if (into.length === 0 && !leak.namesFromValue) continue;
      byLabel.set(leak.label, [...(byLabel.get(leak.label) ?? []), { ...leak, into }]);
    }
    for (const [label, leaks] of byLabel) {
      const into = [...new Set(leaks.flatMap((l) => l.into))];
      const carriers = [into.length > 0 ? labelsPhrase(into) : "", leaks.some((l) => l.namesFromValue) ? "label names built from its value" : ""].filter(Boolean).join(" and ");
      const { why, shape, metadataField } = leaks[0];
      report(
        `${culprits(label, into)} on ${functionRef(shipper.name, shipper.env.kind)} puts ${label} into ${carriers} for ${quoteList([...new Set(leaks.map((l) => l.source))], 3)}${sourcesNote(labels)}. ` +
          `${label} has high cardinality (${why}; shown with ${shape}), so every value becomes a Loki stream of its own. ` +
          `Fix: remove the rule (or labels stage), or narrow its regex to a stable part of the value (e.g. the function version of a Lambda stream)` +
          (metadataField ? `; to keep the full value queryable, add ${metadataField} to ${setting("STRUCTURED_METADATA", shipper.env.kind)}. ` : ". ") +
          `If the label is in fact low-cardinality, add it to this policy's lowCardinalityLabels.`,
      );
    }
  }),
};
