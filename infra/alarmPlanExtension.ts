/**
 * The alarms of a function that runs the telemetry extension (LokiExtension's `alarms`), as plain
 * descriptions like infra/alarmPlan.ts's: on the metrics the extension publishes for that
 * function (`source_kind=telemetry`, `service=<function name>`, in LOKI_METRICS_NAMESPACE), since
 * an extension is not a function of its own and has no AWS/Lambda metrics. The function's own
 * errors and throttles are its owner's business: they are not the extension's to alarm on.
 *
 * Lines the extension loses are lost for good (they are still in the function's CloudWatch log
 * group, but never reach Loki), so those alarms fire on the first period; lines held for a later
 * flush are retried, so that alarm waits for 2 of 3 periods, as the shipper's failed records do.
 */
import { SERVICE_DIMENSION, SOURCE_KIND_DIMENSION, TELEMETRY_METRICS, TELEMETRY_SOURCE_KIND } from "../handler/metrics";
import { ConfigError } from "../handler/config";
import { ALARM_PREFIX, AlarmSpec, AlarmTargets, AT_ONCE, LAG_EVALUATION, plural, SUSTAINED } from "./alarmPlan";
import { ALARM_THRESHOLDS } from "./settings";

/** The thresholds of an extension function's alarms: counts per evaluation period, ages in seconds. */
export interface ExtensionAlarmThresholds {
  entriesLost: number;
  entriesLostAtShutdown: number;
  recordsFailed: number;
  entriesRejected: number;
  deliveryLagSeconds: number;
  telemetryDroppedRecords: number;
}

export interface ExtensionAlarmThresholdSpec {
  key: keyof ExtensionAlarmThresholds;
  defaultValue: number;
  max: number;
  description: string;
}

/** The shipper's bounds for the thresholds both have. */
const shipperBound = (key: "recordsFailed" | "entriesRejected" | "deliveryLagSeconds") => ALARM_THRESHOLDS.find((t) => t.key === key)!;
const MAX_COUNT = shipperBound("recordsFailed").max;

/** Every threshold is a whole number from 1: a threshold of 0 on "at least" would always alarm. */
export const EXTENSION_ALARM_THRESHOLDS: readonly ExtensionAlarmThresholdSpec[] = [
  { key: "entriesLost", defaultValue: 1, max: MAX_COUNT, description: "Lines dropped because LOKI_MAX_HELD_BYTES was full (EntriesLost) in a 5-minute period." },
  { key: "entriesLostAtShutdown", defaultValue: 1, max: MAX_COUNT, description: "Lines still undelivered at SHUTDOWN (EntriesLostAtShutdown) in a 5-minute period." },
  { key: "recordsFailed", defaultValue: shipperBound("recordsFailed").defaultValue, max: MAX_COUNT, description: "Lines a flush could not deliver and kept for a later one (RecordsFailed) in a 5-minute period, in 2 of 3 periods." },
  { key: "entriesRejected", defaultValue: shipperBound("entriesRejected").defaultValue, max: MAX_COUNT, description: "Lines Loki refused for good (EntriesRejected) in a 5-minute period." },
  { key: "deliveryLagSeconds", defaultValue: shipperBound("deliveryLagSeconds").defaultValue, max: shipperBound("deliveryLagSeconds").max, description: "Delivery lag in seconds of the freshest push (DeliveryLagNewest, Minimum) for 15 minutes in a row." },
  { key: "telemetryDroppedRecords", defaultValue: 1, max: MAX_COUNT, description: "Telemetry records Lambda dropped before the extension got them (TelemetryDroppedRecords, from platform.logsDropped) in a 5-minute period." },
];

export const DEFAULT_EXTENSION_ALARM_THRESHOLDS = Object.fromEntries(EXTENSION_ALARM_THRESHOLDS.map((t) => [t.key, t.defaultValue])) as unknown as ExtensionAlarmThresholds;

/** The setting that names a threshold in errors: LokiExtension's `alarms.thresholds.<key>`. */
const thresholdSetting = (key: string): string => `alarms.thresholds.${key}`;

/**
 * The thresholds given to LokiExtension, over the defaults. Throws ConfigError naming the
 * threshold for an unknown name or a value that is not a whole number in range.
 */
export function extensionAlarmThresholds(given: Readonly<Record<string, unknown>> = {}): ExtensionAlarmThresholds {
  const thresholds = { ...DEFAULT_EXTENSION_ALARM_THRESHOLDS };
  const known = new Map(EXTENSION_ALARM_THRESHOLDS.map((t) => [t.key as string, t]));
  for (const [key, value] of Object.entries(given)) {
    const spec = known.get(key);
    if (spec === undefined) throw new ConfigError(thresholdSetting(key), "is not a threshold of the extension's alarms", `one of ${[...known.keys()].join(", ")}`);
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > spec.max) {
      throw new ConfigError(thresholdSetting(key), `${JSON.stringify(value)} is out of range`, `a whole number from 1 to ${spec.max}`);
    }
    thresholds[spec.key] = value;
  }
  return thresholds;
}

/** A metric the extension publishes, by name: fails loudly if handler/metrics.ts renames it. */
function telemetryMetric(name: string): string {
  if (!TELEMETRY_METRICS.some((m) => m.name === name)) throw new Error(`handler/metrics.ts gives the extension no metric ${name}`);
  return name;
}

/**
 * The alarms of a function running the extension: lines lost (memory bound, SHUTDOWN), lines held
 * for a later flush, lines Loki rejected, delivery lag, and telemetry Lambda dropped.
 * `namespace`: the function's LOKI_METRICS_NAMESPACE.
 */
export function planExtensionAlarms<V>(namespace: string, thresholds: ExtensionAlarmThresholds, targets: AlarmTargets<V>): AlarmSpec<V, keyof ExtensionAlarmThresholds>[] {
  const dimensions = { [SERVICE_DIMENSION]: targets.functionName, [SOURCE_KIND_DIMENSION]: TELEMETRY_SOURCE_KIND };
  const base = { namespace, dimensions, comparisonOperator: "GreaterThanOrEqualToThreshold" as const, treatMissingData: "notBreaching" as const };
  const intro = (t: AlarmTargets<string>): string => `${ALARM_PREFIX} telemetry extension of ${t.functionName}`;
  const metric = (name: string): string => `${namespace}/${telemetryMetric(name)} (${SOURCE_KIND_DIMENSION}=${TELEMETRY_SOURCE_KIND})`;
  const lines = (n: number): string => plural(n, "line");
  const count = (id: string, metricName: string, thresholdKey: keyof ExtensionAlarmThresholds, evaluation: typeof AT_ONCE, describe: (t: AlarmTargets<string>) => string): AlarmSpec<V, keyof ExtensionAlarmThresholds> => ({
    id, ...base, metricName: telemetryMetric(metricName), statistic: "Sum", ...evaluation, thresholdKey, threshold: thresholds[thresholdKey], describe,
  });
  return [
    count("entries-lost", "EntriesLost", "entriesLost", AT_ONCE, (t) =>
      `${intro(t)}: ${lines(thresholds.entriesLost)} or more dropped in 5 minutes (${metric("EntriesLost")}): LOKI_MAX_HELD_BYTES was full while Loki could not take them, oldest first; they never reach Loki (they are still in ${t.logGroupName}). ` +
      `Loki was down, refusing or slow for long: the extension's "lines kept for a later push" warnings in ${t.logGroupName} give Loki's answer. ` +
      "Fix Loki, its address or credentials; to ride out longer outages raise LOKI_MAX_HELD_BYTES (it counts against the function's memory)."),
    count("entries-lost-at-shutdown", "EntriesLostAtShutdown", "entriesLostAtShutdown", AT_ONCE, (t) =>
      `${intro(t)}: ${lines(thresholds.entriesLostAtShutdown)} or more still undelivered when an execution environment shut down (${metric("EntriesLostAtShutdown")}): they never reach Loki (they are still in ${t.logGroupName}). ` +
      `The "lines that never reached Loki" error in ${t.logGroupName} has the counts, the "lines kept for a later push" warnings before it Loki's answer. ` +
      "Lambda gives extensions about 2 s at SHUTDOWN: a Loki down or slow then loses what was held. Fix Loki; with LOKI_FLUSH_STRATEGY=end-of-invocation less is held when SHUTDOWN comes."),
    count("records-failed", "RecordsFailed", "recordsFailed", SUSTAINED, (t) =>
      `${intro(t)}: ${lines(thresholds.recordsFailed)} or more per 5 minutes, in 2 of the last 3, not delivered by a flush (${metric("RecordsFailed")}): kept in memory and pushed again later, nothing lost yet. ` +
      `Loki refuses (401/403/404: wrong LOKI_WRITE_ADDRESS or credentials), fails (429/5xx) or is slower than LOKI_FLUSH_TIMEOUT_MS; "lines kept for a later push" in ${t.logGroupName} gives the reason. ` +
      "Fix it before the entries-lost alarms follow."),
    count("entries-rejected", "EntriesRejected", "entriesRejected", AT_ONCE, (t) =>
      `${intro(t)}: Loki refused ${lines(thresholds.entriesRejected)} or more for good in 5 minutes (${metric("EntriesRejected")}): they are lost, not retried. ` +
      `${t.logGroupName} gives Loki's reason ("Loki rejected entries of a push"): "entry too far behind" (widen Loki's out-of-order window), ` +
      "\"line too long\" (set LOKI_MAX_LINE_SIZE to Loki's max_line_size), or a rate or stream limit (raise the tenant's limits in Loki)."),
    {
      id: "delivery-lag", ...base, metricName: telemetryMetric("DeliveryLagNewest"), ...LAG_EVALUATION,
      thresholdKey: "deliveryLagSeconds", threshold: thresholds.deliveryLagSeconds * 1000,
      describe: (t) =>
        `${intro(t)}: the function's lines reach Loki late: for 15 minutes even the freshest push of each 5 minutes carried lines ${thresholds.deliveryLagSeconds} s old or more (${metric("DeliveryLagNewest")}, Minimum). ` +
        `Loki is slow or failing (PushRetries, the records-failed alarm, "lines kept for a later push" in ${t.logGroupName}), or lines wait in frozen environments: while the function is busy (LOKI_FLUSH_STRATEGY=auto) pushes run in the background and an interval's lines wait for the next invocation. ` +
        "Use LOKI_FLUSH_STRATEGY=end-of-invocation or a shorter LOKI_FLUSH_INTERVAL_MS; lines over an hour behind their stream are refused by Loki.",
    },
    count("telemetry-dropped", "TelemetryDroppedRecords", "telemetryDroppedRecords", AT_ONCE, (t) =>
      `${intro(t)}: Lambda dropped ${plural(thresholds.telemetryDroppedRecords, "telemetry record")} or more in 5 minutes before the extension received them (${metric("TelemetryDroppedRecords")}, from platform.logsDropped): those lines are missing in Loki (still in ${t.logGroupName}). ` +
      "The extension did not take Lambda's telemetry POSTs fast enough: give the function more memory (CPU), or raise LOKI_TELEMETRY_MAX_ITEMS / LOKI_TELEMETRY_MAX_BYTES so Lambda sends fewer, larger batches."),
  ];
}
