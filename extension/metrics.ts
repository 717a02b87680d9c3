/**
 * The extension's own CloudWatch metrics: the shipper's metric set (handler/metrics.ts) under
 * `source_kind=telemetry`, written as an embedded-metric-format line on the extension's stdout,
 * which Lambda sends to the function's log group, where CloudWatch Logs extracts the metrics.
 * No API call: an extension cannot count on the network once its environment is frozen.
 *
 * Cadence: one line per flush that did something (received, dropped, pushed or lost lines since
 * the previous line) and one at SHUTDOWN; never one per record, nothing while idle.
 *
 * The figures of a line are the differences of the extension's running totals since the previous
 * line, so that the counters stay where they are counted (outbox, listener, converter) and the
 * SHUTDOWN summary and the metrics can never disagree.
 *
 * Lambda also turns every line an extension writes into an `extension` telemetry event. When
 * LOKI_TELEMETRY_TYPES ships those, this extension's own metric lines must not be shipped back:
 * each would make the next flush do work, which would write another line, for ever.
 * `isOwnLine` recognises them.
 */
import { ShipperMetrics, SERVICE_DIMENSION, SOURCE_KIND_DIMENSION, TELEMETRY_METRICS, TELEMETRY_SOURCE_KIND, type TelemetryStats } from "../handler/metrics";
import type { DeliveryLagFigures } from "../handler/delivery-lag";

/** The running totals a line's figures are the differences of (lag aside). */
export type TelemetryTotals = Omit<TelemetryStats, "lagNewestMs" | "lagOldestMs">;

export function zeroTotals(): TelemetryTotals {
  return {
    records: 0, failedRecords: 0, entries: 0, bytes: 0, streams: 0, pushes: 0, retries: 0, splits: 0, dropped: 0, rejected: 0,
    stageDropped: {}, truncatedLines: 0, droppedLongLines: 0, splitLines: 0, shipped: 0,
    lostPastMemoryBound: 0, lostAtShutdown: 0, lambdaDroppedRecords: 0, lambdaDroppedBytes: 0,
  };
}

type NumericKey = { [K in keyof TelemetryTotals]: TelemetryTotals[K] extends number ? K : never }[keyof TelemetryTotals];

/** `now - before`, field by field (stage drop reasons too). */
export function difference(now: TelemetryTotals, before: TelemetryTotals): TelemetryTotals {
  const diff = zeroTotals();
  for (const key of Object.keys(diff) as (keyof TelemetryTotals)[]) {
    if (key === "stageDropped") continue;
    diff[key as NumericKey] = now[key as NumericKey] - before[key as NumericKey];
  }
  for (const [reason, count] of Object.entries(now.stageDropped)) {
    const delta = count - (before.stageDropped[reason] ?? 0);
    if (delta !== 0) diff.stageDropped[reason] = delta;
  }
  return diff;
}

/** Whether anything happened: a line with only zeros (and no lag) is not written. */
function isEmpty(stats: TelemetryTotals, lag: DeliveryLagFigures): boolean {
  if (lag.lagNewestMs !== undefined || Object.keys(stats.stageDropped).length > 0) return false;
  return (Object.keys(stats) as (keyof TelemetryTotals)[]).every((key) => key === "stageDropped" || stats[key] === 0);
}

export interface ExtensionMetricsOptions {
  namespace: string;
  /** The function's name: the `service` dimension. */
  functionName: string;
  /** Writes one line (default: stdout). */
  write?: (line: string) => void;
}

export class ExtensionMetrics {
  private readonly metrics: ShipperMetrics<TelemetryStats>;
  private readonly write: (line: string) => void;
  private published: TelemetryTotals = zeroTotals();

  constructor(private readonly options: ExtensionMetricsOptions) {
    this.metrics = new ShipperMetrics({ namespace: options.namespace, functionName: options.functionName, definitions: TELEMETRY_METRICS });
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  /**
   * Writes the line of what happened since the previous one, given the running totals now and
   * the lag of the pushes acknowledged meanwhile; writes nothing when nothing happened.
   */
  publish(totals: TelemetryTotals, lag: DeliveryLagFigures): boolean {
    const window = difference(totals, this.published);
    if (isEmpty(window, lag)) return false;
    this.published = structuredClone(totals);
    this.write(this.metrics.emfLine(TELEMETRY_SOURCE_KIND, { ...window, ...lag }));
    return true;
  }

  /**
   * Whether a telemetry `extension` record is one of this extension's metric lines: an EMF
   * document of our namespace with our `service` and `source_kind` (a string line, or the object
   * Lambda may have parsed it into).
   */
  isOwnLine(record: unknown): boolean {
    let doc: unknown = record;
    if (typeof record === "string") {
      if (!record.startsWith('{"_aws":')) return false;
      try {
        doc = JSON.parse(record);
      } catch {
        return false;
      }
    }
    if (typeof doc !== "object" || doc === null) return false;
    const fields = doc as Record<string, unknown>;
    const aws = fields._aws as { CloudWatchMetrics?: { Namespace?: unknown }[] } | undefined;
    return fields[SOURCE_KIND_DIMENSION] === TELEMETRY_SOURCE_KIND
      && fields[SERVICE_DIMENSION] === this.options.functionName
      && Array.isArray(aws?.CloudWatchMetrics)
      && aws.CloudWatchMetrics.some((directive) => directive?.Namespace === this.options.namespace);
  }
}
