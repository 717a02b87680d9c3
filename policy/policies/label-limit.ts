/**
 * The number of label names an entry can end up with, per configured source: base labels, tag
 * labels, extra labels, after DROP_LABELS and RELABEL_CONFIGS, and the labels LOKI_STAGE_CONFIGS
 * can add (or remove) along each of its paths. Above Loki's
 * max_label_names_per_series (15 by default) every push of such entries is rejected (HTTP 400)
 * and the entries are lost.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { finalLabelNames } from "../analysis/cardinality";
import { shipperLabels, sourcesNote } from "../lib/label-analysis";
import { functionRef, quoteList, setting } from "../lib/messages";
import { configOf } from "../lib/policy-config";
import { EVERY_KIND, SHIPPER_FUNCTION } from "../lib/environment";
import { validateEachShipper } from "../lib/validation";

export interface LabelLimitConfig {
  maxLabelNames: number;
  lokiAddsServiceName: boolean;
}

/** Loki's default limits_config.max_label_names_per_series. */
export const DEFAULT_MAX_LABEL_NAMES = 15;
const DEFAULTS: LabelLimitConfig = { maxLabelNames: DEFAULT_MAX_LABEL_NAMES, lokiAddsServiceName: true };

export const labelLimit: StackValidationPolicy = {
  name: "label-limit",
  description: "Entries must not end up with more label names than Loki accepts per stream (max_label_names_per_series, 15 by default).",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: {
    properties: {
      maxLabelNames: { type: "integer", minimum: 1, default: DEFAULT_MAX_LABEL_NAMES, description: "Loki's limits_config.max_label_names_per_series for the tenant." },
      lokiAddsServiceName: {
        type: "boolean",
        default: true,
        description: "Count the service_name label Loki 3 adds to streams without one (discover_service_name, on by default); false when the tenant disables it.",
      },
    },
  },
  validateStack: validateEachShipper(EVERY_KIND, (shipper, stack, args, report) => {
    const labels = shipperLabels(shipper, stack);
    if (!labels) return;
    const { maxLabelNames, lokiAddsServiceName } = configOf(args, DEFAULTS);
    // Entries with the same final label names are reported together.
    const over = new Map<string, { names: string[]; count: number; sources: string[]; byStages: string[] }>();
    for (const template of labels.templates) {
      const names = finalLabelNames(template, labels.pipeline, labels.stages);
      if (names === null) continue;
      const count = names.length + (lokiAddsServiceName && !names.includes("service_name") ? 1 : 0);
      if (count <= maxLabelNames) continue;
      const key = names.join(",");
      const before = labels.stages ? (finalLabelNames(template, labels.pipeline) ?? []) : names;
      const entry = over.get(key) ?? { names, count, sources: [], byStages: names.filter((n) => !before.includes(n)) };
      entry.sources.push(template.source);
      over.set(key, entry);
    }
    const patternNote = labels.config.tagLabels.some((r) => r.kind === "pattern") ? ` Each ${setting("TAG_LABELS", shipper.env.kind)} pattern is counted as one label; it adds one per matching tag.` : "";
    const kind = shipper.env.kind;
    for (const { names, count, sources, byStages } of over.values()) {
      const stagesNote = byStages.length > 0 ? ` ${setting("LOKI_STAGE_CONFIGS", kind)} adds ${quoteList(byStages)}.` : "";
      report(
        `Entries of ${functionRef(shipper.name, shipper.env.kind)} from ${quoteList(sources, 3)}${sourcesNote(labels)} would carry ${count} label names ` +
          `(${names.join(", ")}${count > names.length ? ", plus service_name added by Loki" : ""}), above the limit of ${maxLabelNames} (Loki's max_label_names_per_series): ` +
          `Loki rejects every push of such entries (HTTP 400) and they are lost.${stagesNote}${patternNote} ` +
          `Fix: drop labels you do not query with ${setting("DROP_LABELS", shipper.env.kind)} or a labeldrop rule in ${setting("RELABEL_CONFIGS", shipper.env.kind)}${byStages.length > 0 ? " or a labeldrop stage" : ""}, or set fewer ${setting("EXTRA_LABELS", shipper.env.kind)}${shipper.env.kind === SHIPPER_FUNCTION ? ` or ${setting("TAG_LABELS")}` : ""}; ` +
          `if your Loki allows more, set this policy's maxLabelNames.`,
      );
    }
  }),
};
