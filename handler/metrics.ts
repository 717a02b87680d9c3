/**
 * The shipper's own CloudWatch metrics, as embedded-metric-format (EMF) log lines written by
 * Powertools Metrics: CloudWatch Logs turns the function's log line into metrics, so there is
 * no API call on the hot path and nothing to wait for at the end of an invocation.
 *
 * One EMF line per invocation and source kind. Dimensions are low-cardinality only: `service`
 * (the function's name) and `source_kind` (cloudwatch, kinesis, s3, sqs, sns, eventbridge, or
 * `telemetry` for the telemetry extension); never the log group, stream or object.
 *
 * The telemetry extension publishes the same set, with the meanings of a telemetry record, plus
 * a few of its own (TELEMETRY_METRICS), through the same class: it prints the line itself.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { EXTENSION_PREFIX, renameSettings } from "./config";
import type { ShipStats } from "./pipeline";

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export interface MetricDefinition<S extends ShipStats = ShipStats> {
  name: string;
  unit: Unit;
  description: string;
  /** The value for one invocation; undefined leaves the metric out of that line. */
  value: (stats: S) => number | undefined;
}

/** Every metric the shipper publishes, in the order the README documents them. */
export const SHIPPER_METRICS: readonly MetricDefinition[] = [
  { name: "Records", unit: MetricUnit.Count, description: "Records received (CloudWatch event, Kinesis record, SQS message, S3 object notification).", value: (s) => s.records },
  { name: "RecordsFailed", unit: MetricUnit.Count, description: "Records reported failed (batchItemFailures, or the invocation failed on purpose so that Lambda retries an event without partial failures, such as an asynchronous CloudWatch event): retried by the event source, then dead-lettered. An invocation that fails before it reads any record (an event of an unknown type, a cold start refused by a bad setting) writes no metric line: Lambda's own `Errors` metric, and its alarm, count it.", value: (s) => s.failedRecords },
  { name: "EntriesShipped", unit: MetricUnit.Count, description: "Entries in pushes Loki acknowledged, less those it rejected.", value: (s) => s.shipped },
  { name: "EntriesRejected", unit: MetricUnit.Count, description: "Entries Loki refused for good (a 400 such as \"entry too far behind\" or \"line too long\", or an entry too large alone).", value: (s) => s.rejected },
  { name: "EntriesDropped", unit: MetricUnit.Count, description: "Entries dropped on purpose: relabeling left no labels, a keep/drop rule or a pipeline stage dropped them, or a line over MAX_LINE_SIZE was dropped (MAX_LINE_SIZE_ACTION=drop).", value: entriesDropped },
  { name: "BytesShipped", unit: MetricUnit.Bytes, description: "Size of the acknowledged push requests before compression.", value: (s) => s.bytes },
  { name: "Pushes", unit: MetricUnit.Count, description: "HTTP requests sent to Loki, retries and 413 halves included.", value: (s) => s.pushes },
  { name: "PushRetries", unit: MetricUnit.Count, description: "Requests that resent an earlier one after 429, 5xx or a network error.", value: (s) => s.retries },
  { name: "PushSplits", unit: MetricUnit.Count, description: "Requests answered 413 and split in halves.", value: (s) => s.splits },
  { name: "DeliveryLagNewest", unit: MetricUnit.Milliseconds, description: "Age of the newest entry when Loki acknowledged its push (its own timestamp against the clock): how far behind the pipeline is.", value: (s) => s.lagNewestMs },
  { name: "DeliveryLagOldest", unit: MetricUnit.Milliseconds, description: "Age of the oldest entry when Loki acknowledged its push: entries older than Loki's window (an hour behind the stream's newest) are rejected.", value: (s) => s.lagOldestMs },
];

/** Every entry left out on purpose, whichever step left it out. */
function entriesDropped(s: ShipStats): number {
  let dropped = s.dropped + s.droppedLongLines;
  for (const count of Object.values(s.stageDropped)) dropped += count;
  return dropped;
}

/** The `source_kind` of the telemetry extension's metrics. */
export const TELEMETRY_SOURCE_KIND = "telemetry";

/**
 * The telemetry extension's figures for one flush: the shipper's, where a record is one
 * telemetry event of a shipped type (one line), and what only the extension sees.
 */
export interface TelemetryStats extends ShipStats {
  /** Entries dropped because LOKI_MAX_HELD_BYTES was reached while Loki could not take them. */
  lostPastMemoryBound: number;
  /** Entries still held when the SHUTDOWN deadline came. */
  lostAtShutdown: number;
  /** What Lambda reported dropped in platform.logsDropped (the extension did not take telemetry fast enough). */
  lambdaDroppedRecords: number;
  lambdaDroppedBytes: number;
}

/** What a shipper metric means for the extension, where the shipper's wording does not fit (elsewhere: the shipper's, with LOKI_ names). */
const TELEMETRY_MEANINGS: Readonly<Record<string, string>> = {
  Records: "Telemetry events of the shipped types received (LOKI_TELEMETRY_TYPES): each is one line.",
  RecordsFailed: "Lines not delivered by this flush: in a push that failed or ran out of time (kept in memory and pushed again at a later flush or at SHUTDOWN, counted again if that fails too), or unreadable telemetry events (no valid time; skipped and logged).",
};

/** Every metric the telemetry extension publishes: the shipper's, then its own. */
export const TELEMETRY_METRICS: readonly MetricDefinition<TelemetryStats>[] = [
  ...SHIPPER_METRICS.map((m) => ({ ...m, description: TELEMETRY_MEANINGS[m.name] ?? renameSettings(m.description, EXTENSION_PREFIX) })),
  { name: "EntriesLost", unit: MetricUnit.Count, description: "Lines dropped, oldest first, because LOKI_MAX_HELD_BYTES was reached while Loki could not take them: they never reach Loki.", value: (s) => s.lostPastMemoryBound },
  { name: "EntriesLostAtShutdown", unit: MetricUnit.Count, description: "Lines still undelivered when the SHUTDOWN deadline came (counted in the line written at SHUTDOWN): they never reach Loki.", value: (s) => s.lostAtShutdown },
  { name: "TelemetryDroppedRecords", unit: MetricUnit.Count, description: "Records Lambda dropped before they reached the extension, as its platform.logsDropped events report.", value: (s) => s.lambdaDroppedRecords },
  { name: "TelemetryDroppedBytes", unit: MetricUnit.Bytes, description: "Bytes of those records, as platform.logsDropped reports.", value: (s) => s.lambdaDroppedBytes },
];

export const SERVICE_DIMENSION = "service";
export const SOURCE_KIND_DIMENSION = "source_kind";

export interface ShipperMetricsOptions<S extends ShipStats> {
  namespace: string;
  /** The function's name: the `service` dimension. */
  functionName: string;
  /** The metrics written (default SHIPPER_METRICS; the telemetry extension gives TELEMETRY_METRICS). */
  definitions?: readonly MetricDefinition<S>[];
}

export class ShipperMetrics<S extends ShipStats = ShipStats> {
  private readonly metrics: Metrics;
  private readonly definitions: readonly MetricDefinition<S>[];

  constructor(opts: ShipperMetricsOptions<S>) {
    this.metrics = new Metrics({ namespace: opts.namespace, serviceName: opts.functionName });
    this.definitions = opts.definitions ?? SHIPPER_METRICS;
  }

  /**
   * Writes one invocation's figures for a source kind to the function's log (stdout), where
   * CloudWatch picks them up. Written here, not by Powertools' publishStoredMetrics, which writes
   * nothing when POWERTOOLS_DEV or POWERTOOLS_METRICS_DISABLED is set: METRICS alone decides, so
   * that the alarms never watch metrics another setting silenced.
   */
  publish(sourceKind: string, stats: S): void {
    process.stdout.write(`${this.emfLine(sourceKind, stats)}\n`);
  }

  /**
   * The EMF line of one invocation's figures for a source kind, without writing it: for a
   * caller that writes its own log lines (the telemetry extension, which cannot call
   * CloudWatch from a frozen environment, prints it with its own source kind).
   */
  emfLine(sourceKind: string, stats: S): string {
    this.add(sourceKind, stats);
    try {
      return JSON.stringify(this.metrics.serializeMetrics());
    } finally {
      this.metrics.clearMetrics();
      this.metrics.clearDimensions();
    }
  }

  private add(sourceKind: string, stats: S): void {
    this.metrics.addDimension(SOURCE_KIND_DIMENSION, sourceKind);
    for (const metric of this.definitions) {
      const value = metric.value(stats);
      if (value !== undefined) this.metrics.addMetric(metric.name, metric.unit, value);
    }
  }
}
