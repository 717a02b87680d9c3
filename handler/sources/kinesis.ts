/**
 * Kinesis Data Streams -> Lambda. A record holding a CloudWatch Logs subscription payload
 * (gzip JSON, as a subscription filter with a Kinesis destination writes) is unpacked like a
 * CloudWatch event; anything else (CloudFront real-time logs, application JSON or text lines)
 * is shipped as raw lines stamped with the record's arrival time, never dropped.
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from "aws-lambda";
import { BadRecordError, describeValue, ENTRY_TIME_RANGE, EntryGroup, fromMillis, LogEntry, MAX_ENTRY_SEC, MIN_ENTRY_SEC, SourceRecord } from "../types";
import { decodeText } from "../parsers/text";
import type { SourceAdapter, SourceContext } from "./context";
import { CloudWatchGroupOptions, cloudWatchPayloadGroup, CloudWatchPayloadGroup, decodeBase64, inflate, isGzip, withTagLabels } from "./cloudwatch-payload";

export const kinesisRecords: SourceAdapter<KinesisStreamEvent> = (event, ctx) =>
  event.Records.map((record): SourceRecord => ({
    itemIdentifier: record.kinesis.sequenceNumber,
    describe: `kinesis ${record.eventID}`,
    groups: () => kinesisGroups(record, ctx),
  }));

async function* kinesisGroups(record: KinesisStreamRecord, ctx: SourceContext): AsyncIterable<EntryGroup> {
  const read = readKinesisRecord(record, ctx);
  if (read.control) return;
  yield read.logGroup === undefined ? read.group : withTagLabels(read.group, read, record.awsRegion, ctx);
}

/**
 * The record's data -> its entry group. Not a generator: the decoded bytes and anything made
 * while deciding what the data is are garbage once it returns, instead of living in the
 * generator's frame while the entries are shipped. A subscription payload's group holds its
 * inflated bytes until its entries are read (see cloudWatchPayloadGroup).
 */
function readKinesisRecord(record: KinesisStreamRecord, ctx: SourceContext): CloudWatchPayloadGroup | { group: EntryGroup; logGroup?: undefined; control?: undefined } {
  const what = `kinesis record ${record.kinesis.sequenceNumber}`;
  const sourceLabels = { __aws_log_type: "kinesis", __aws_kinesis_event_source_arn: record.eventSourceARN };
  const metadata = {
    kinesis_partition_key: record.kinesis.partitionKey,
    kinesis_sequence_number: record.kinesis.sequenceNumber,
    kinesis_shard_id: record.eventID.split(":")[0],
  };
  const bytes = decodeBase64(record.kinesis.data, `${what} data`);
  const compressed = isGzip(bytes);
  const data = compressed ? inflate(bytes, `${what} data`, ctx.config.maxDecompressedSize) : bytes;

  if (compressed || looksLikeJsonObject(data)) {
    const read = tryCloudWatchPayload(data, {
      sourceLabels,
      keepStream: ctx.config.keepStream,
      wantEventId: ctx.config.structuredMetadata.includes("cloudwatch_event_id"),
      extraMetadata: metadata,
      what,
    });
    if (read) return read;
  }
  return { group: { labels: sourceLabels, metadata, entries: rawLines(decodeText(data), record.kinesis.approximateArrivalTimestamp, what) } };
}

/** Data that JSON.parse might read as a subscription payload: an object (after JSON's whitespace) naming messageType. */
function looksLikeJsonObject(data: Buffer): boolean {
  let i = 0;
  while (i < data.length && (data[i] === 0x20 || data[i] === 0x09 || data[i] === 0x0a || data[i] === 0x0d)) i++;
  return data[i] === 0x7b /* { */ && data.includes('"messageType"');
}

/** A payload that is not valid JSON or not a subscription payload is plain data, not an error. */
function tryCloudWatchPayload(data: Buffer, opts: CloudWatchGroupOptions): CloudWatchPayloadGroup | undefined {
  try {
    return cloudWatchPayloadGroup(data, opts);
  } catch (err) {
    // Valid JSON with messageType but broken fields is a corrupt payload: report it.
    if (err instanceof BadRecordError && !/not valid JSON/.test(err.message)) throw err;
    return undefined;
  }
}

/**
 * One entry per line of the record. A single trailing newline ends the last line rather than
 * starting an empty one; CRLF is accepted. `arrival` is seconds with millisecond fraction.
 * Line i is stamped i nanoseconds after the arrival time (within its millisecond for any record
 * under a million lines): Loki drops an entry identical (timestamp and line) to one it holds, so
 * at one shared timestamp the repeated lines of a record (a blank separator, the identical frames
 * of a recursive stack trace, a repeated heartbeat) were lost but the first, and the lines' order
 * was left to the batcher. Still derived from the record alone, so a retry gives the same entries.
 */
export function rawLines(text: string, arrivalSeconds: unknown, what = "kinesis record"): LogEntry[] {
  const arrival = `${what}: approximateArrivalTimestamp`;
  if (typeof arrivalSeconds !== "number" || !(arrivalSeconds >= MIN_ENTRY_SEC && arrivalSeconds < MAX_ENTRY_SEC + 1)) {
    throw new BadRecordError(`${arrival} ${describeValue(arrivalSeconds)} is not a time Loki can store (seconds since the epoch from ${ENTRY_TIME_RANGE})`);
  }
  const { sec, nsec } = fromMillis(Math.round(arrivalSeconds * 1000), arrival);
  const body = text.endsWith("\n") ? text.slice(0, text.endsWith("\r\n") ? -2 : -1) : text;
  return body.split(/\r?\n/).map((line, i) => {
    const n = nsec + i;
    return n < 1e9 ? { sec, nsec: n, line } : { sec: sec + Math.floor(n / 1e9), nsec: n % 1e9, line };
  });
}
