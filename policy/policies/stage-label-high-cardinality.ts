/**
 * A `labels` stage (LOKI_STAGE_CONFIGS) whose value is parsed from the log line and named like
 * an unbounded value (a request or trace id, a timestamp, an IP address, a user, the message, a
 * URL): every distinct value becomes a Loki stream of its own. Mandatory, like
 * relabel-high-cardinality: the harm is the same (a stream per request or per user), and the
 * names judged (policy/analysis/high-cardinality-fields.ts) are the certain ones; a label known
 * to be bounded is accepted through lowCardinalityLabels. Values copied from the stream's own
 * labels (a log stream, a CloudFront prefix) are judged by relabel-high-cardinality, which runs
 * the stages too.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { unboundedKind } from "../analysis/high-cardinality-fields";
import type { LineLabel } from "../analysis/stage-labels";
import { EVERY_KIND } from "../lib/environment";
import { shipperLabels } from "../lib/label-analysis";
import { functionRef, setting } from "../lib/messages";
import { configOf, LOW_CARDINALITY_LABELS_SCHEMA } from "../lib/policy-config";
import { validateEachShipper } from "../lib/validation";

export interface StageLabelConfig {
  lowCardinalityLabels: string[];
}

const DEFAULTS: StageLabelConfig = { lowCardinalityLabels: [] };

export const stageLabelHighCardinality: StackValidationPolicy = {
  name: "stage-label-high-cardinality",
  description: "LOKI_STAGE_CONFIGS must not make labels of values parsed from log lines that are unbounded by nature (request or trace ids, timestamps, IP addresses, users, messages, URLs).",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema: { properties: { lowCardinalityLabels: LOW_CARDINALITY_LABELS_SCHEMA } },
  validateStack: validateEachShipper(EVERY_KIND, (shipper, stack, args, report) => {
    const labels = shipperLabels(shipper, stack);
    if (!labels?.stages) return;
    const allowed = new Set(configOf(args, DEFAULTS).lowCardinalityLabels);
    // Once per label and stage, over every source and path.
    const found = new Map<string, { label: LineLabel; name: string; kind: string }>();
    for (const template of labels.templates) {
      const final = labels.pipeline(template.base);
      if (final === null) continue;
      for (const outcome of labels.stages.outcomes(final)) {
        for (const l of outcome?.fromLine ?? []) {
          if (allowed.has(l.label)) continue;
          const key = `${l.where}.${l.label}`;
          if (found.has(key)) continue;
          // The field the value was parsed from first: it says most about the value.
          const hit = [...[...l.value.names].reverse(), l.label].map((name) => ({ name, kind: unboundedKind(name) })).find((h) => h.kind !== undefined);
          if (hit?.kind) found.set(key, { label: l, name: hit.name, kind: hit.kind });
        }
      }
    }
    const kind = shipper.env.kind;
    for (const [key, { label, name, kind: what }] of found) {
      const from = [...new Set(label.value.names)].map((n) => `"${n}"`).join(", ");
      report(
        `${setting("LOKI_STAGE_CONFIGS", kind)} on ${functionRef(shipper.name, kind)} makes label "${label.label}" (${key}) of a value parsed from each log line ` +
          `(by ${label.value.where}, from ${from}); "${name}" names ${what}, which has a new value for (nearly) every line, so every value becomes a Loki stream of its own ` +
          `(millions of tiny streams, Loki's per-tenant stream limit reached, its index bloated). ` +
          `Fix: keep the value as structured metadata instead, queryable without a stream per value: replace the labels entry with {"structured_metadata": {"${label.label}": "…"}} ` +
          `(same source); if the value is in fact bounded, add "${label.label}" to this policy's lowCardinalityLabels.`,
      );
    }
  }),
};
