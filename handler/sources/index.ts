/**
 * Event kind -> source adapter. Adapters for S3-delivered logs are loaded on first use so that
 * a function that only receives CloudWatch or Kinesis events never loads the S3 client.
 */
import type { EventKind, SourceRecord } from "../types";
import type { SourceContext } from "./context";

type Loader = () => Promise<(event: never, ctx: SourceContext) => SourceRecord[]>;

const ADAPTERS: Record<EventKind, Loader> = {
  cloudwatch: async () => (await import("./cloudwatch")).cloudWatchRecords,
  kinesis: async () => (await import("./kinesis")).kinesisRecords,
  s3: async () => (await import("./s3")).s3Records,
  sqs: async () => (await import("./sqs")).sqsRecords,
  sns: async () => (await import("./sns")).snsRecords,
  eventbridge: async () => (await import("./eventbridge")).eventBridgeRecords,
};

/** Sources whose event source mapping understands `batchItemFailures` (ReportBatchItemFailures). */
export const PARTIAL_FAILURE_KINDS: ReadonlySet<EventKind> = new Set(["sqs", "kinesis"]);

export async function recordsOf(kind: EventKind, event: unknown, ctx: SourceContext): Promise<SourceRecord[]> {
  const adapter = await ADAPTERS[kind]();
  return adapter(event as never, ctx);
}
