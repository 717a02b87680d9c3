/**
 * KEEP_STREAM=true makes the CloudWatch log stream a label: one Loki stream per Lambda execution
 * environment, ECS task, instance or pod. The check runs the label pipeline, so a configuration
 * that keeps the stream only to derive a stable label from it and then drops it passes.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { findLeaks } from "../analysis/cardinality";
import { STREAM_LABEL } from "../analysis/source-labels";
import { shipperLabels, sourcesNote } from "../lib/label-analysis";
import { assignment, functionRef, labelsPhrase, quoteList, setting } from "../lib/messages";
import { EVERY_KIND } from "../lib/environment";
import { validateEachShipper } from "../lib/validation";

export const keepStreamLabel: StackValidationPolicy = {
  name: "keep-stream-label",
  description: "KEEP_STREAM=true must not turn CloudWatch log streams into Loki streams; keep the stream as structured metadata instead.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: validateEachShipper(EVERY_KIND, (shipper, stack, _args, report) => {
    const labels = shipperLabels(shipper, stack);
    if (!labels || !labels.config.keepStream) return;
    const leaks = labels.templates.flatMap((t) => findLeaks(t, labels.pipeline, labels.stages)).filter((l) => l.label === STREAM_LABEL);
    if (leaks.length === 0) return;
    const into = [...new Set(leaks.flatMap((l) => l.into))];
    const carriers = [into.length > 0 ? labelsPhrase(into) : "", leaks.some((l) => l.namesFromValue) ? "label names built from it" : ""].filter(Boolean).join(" and ");
    const sources = [...new Set(leaks.map((l) => l.source))];
    const metadataAlready = labels.config.structuredMetadata.includes("cloudwatch_log_stream");
    report(
      `${setting("KEEP_STREAM", shipper.env.kind)} is true on ${functionRef(shipper.name, shipper.env.kind)}: the log stream name (${STREAM_LABEL}) reaches Loki as ${carriers} ` +
        `for ${quoteList(sources, 3)}${sourcesNote(labels)}, so every Lambda execution environment, ECS task, instance or pod becomes a Loki stream of its own ` +
        `(thousands a day for a busy function), which exhausts Loki's per-tenant stream limit and bloats its index. ` +
        `Fix: ${assignment("KEEP_STREAM", "false", shipper.env.kind)}` +
        (metadataAlready
          ? "; STRUCTURED_METADATA already carries cloudwatch_log_stream, so every line stays filterable by its stream."
          : ` and add cloudwatch_log_stream to ${setting("STRUCTURED_METADATA", shipper.env.kind)}, which keeps every line filterable by its stream (| cloudwatch_log_stream="…") without a stream per log stream.`),
    );
  }),
};
