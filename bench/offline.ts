/**
 * The handler's pipeline without the network, and the network without the pipeline: the two
 * halves the path benchmarks time apart (bench/cloudwatch.ts, bench/s3-child.ts).
 */
import type { CloudWatchLogsEvent } from "aws-lambda";
import { parseShipperConfig, type ShipperConfig } from "../handler/config";
import { InvocationDeadline } from "../handler/deadline";
import { cloudWatchRecords } from "../handler/sources/cloudwatch";
import { StageRunner } from "../handler/stages/runner";
import { createLabelPipeline } from "../handler/labels/pipeline";
import type { EncodedPush } from "../handler/loki/encode";
import type { LokiClient } from "../handler/loki/client";
import { ship } from "../handler/pipeline";
import type { Log, SourceRecord } from "../handler/types";

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** Longer than any benchmark run: the client never gives up for lack of time. */
const DEADLINE = { remainingMs: () => 900_000 };

/** One push as the pipeline hands it to the client: its body and entry count. */
export type Push = EncodedPush;

/**
 * Ships `records` as the handler does (labels, batching, encoding, snappy) with the push replaced
 * by a no-op; `keep`, when given, receives every push. Throws if a record failed.
 */
export async function shipOffline(records: SourceRecord[], config: ShipperConfig, keep?: (push: Push) => void): Promise<void> {
  const { failed } = await ship(records, {
    batchSize: config.batchSize,
    pushConcurrency: config.pushConcurrency,
    structuredMetadata: config.structuredMetadata,
    printLogLine: false,
    maxLineSize: 262144,
    maxLineSizeAction: "truncate",
    labelsFor: createLabelPipeline({ extraLabels: config.extraLabels, dropLabels: config.dropLabels, relabelRules: config.relabelRules }),
    stages: config.stages === undefined ? undefined : new StageRunner(config.stages, silentLog),
    pusher: {
      push: async (request) => {
        if (keep) keep({ body: request.body, entries: request.entries });
        return { outcome: "ok", pushes: 1, retries: 0, splits: 0, rejectedEntries: 0 };
      },
    },
    deadline: DEADLINE,
    log: silentLog,
  });
  if (failed.length > 0) throw new Error(`records ${failed.join(", ")} failed`);
}

/** Sends the pushes through `client` with at most `concurrency` in flight, as the pipeline does. */
export async function pushAll(client: LokiClient, pushes: readonly Push[], concurrency: number): Promise<void> {
  const inFlight = new Set<Promise<unknown>>();
  for (const request of pushes) {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    const push: Promise<unknown> = client.push(request, DEADLINE).then((report) => {
      inFlight.delete(push);
      if (report.outcome !== "ok") throw new Error(`push failed: ${JSON.stringify(report)}`);
    });
    inFlight.add(push);
  }
  await Promise.all(inFlight);
}

/** The handler's work on a CloudWatch event without the network (settings from process.env); `keep` receives every push. */
export function shipCloudWatchOffline(event: unknown, keep?: Push[]): Promise<void> {
  const config = parseShipperConfig(process.env);
  return shipOffline(cloudWatchRecords(event as CloudWatchLogsEvent, { config, log: silentLog, deadline: InvocationDeadline.in(900_000) }), config, keep && ((push) => keep.push(push)));
}
