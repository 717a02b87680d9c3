/**
 * The shipper's own CloudWatch metrics, as embedded-metric-format (EMF) log lines written by
 * Powertools Metrics: CloudWatch Logs turns the function's log line into metrics, so there is
 * no API call on the hot path and nothing to wait for at the end of an invocation.
 *
 * One EMF line per invocation and source kind. Dimensions are low-cardinality only: `service`
 * (the function's name) and `source_kind` (cloudwatch, kinesis, s3, sqs, sns, eventbridge, or
 * the telemetry extension's own kind); never the log group, stream or object.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ShipStats } from "./pipeline";

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export interface MetricDefinition {
  name: string;
  unit: Unit;
  description: string;
  /** The value for one invocation; undefined leaves the metric out of that line. */
  value: (stats: ShipStats) => number | undefined;
}

/** Every metric the shipper publishes, in the order the README documents them. */
export const SHIPPER_METRICS: readonly MetricDefinition[] = [
  { name: "Records", unit: MetricUnit.Count, description: "Records received (CloudWatch event, Kinesis record, SQS message, S3 object notification).", value: (s) => s.records },
  { name: "RecordsFailed", unit: MetricUnit.Count, description: "Records reported failed (batchItemFailures, or the invocation failed): retried by the event source, then dead-lettered.", value: (s) => s.failedRecords },
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

export const SERVICE_DIMENSION = "service";
export const SOURCE_KIND_DIMENSION = "source_kind";

export interface ShipperMetricsOptions {
  namespace: string;
  /** The function's name: the `service` dimension. */
  functionName: string;
}

export class ShipperMetrics {
  private readonly metrics: Metrics;

  constructor(opts: ShipperMetricsOptions) {
    this.metrics = new Metrics({ namespace: opts.namespace, serviceName: opts.functionName });
  }

  /** Writes one invocation's figures for a source kind to the function's log (stdout), where CloudWatch picks them up. */
  publish(sourceKind: string, stats: ShipStats): void {
    this.add(sourceKind, stats);
    this.metrics.publishStoredMetrics();
  }

  /**
   * The EMF line of one invocation's figures for a source kind, without writing it: for a
   * caller that writes its own log lines (the telemetry extension, which cannot call
   * CloudWatch from a frozen environment, prints it with its own source kind).
   */
  emfLine(sourceKind: string, stats: ShipStats): string {
    this.add(sourceKind, stats);
    try {
      return JSON.stringify(this.metrics.serializeMetrics());
    } finally {
      this.metrics.clearMetrics();
      this.metrics.clearDimensions();
    }
  }

  private add(sourceKind: string, stats: ShipStats): void {
    this.metrics.addDimension(SOURCE_KIND_DIMENSION, sourceKind);
    for (const metric of SHIPPER_METRICS) {
      const value = metric.value(stats);
      if (value !== undefined) this.metrics.addMetric(metric.name, metric.unit, value);
    }
  }
}
