/**
 * The CloudWatch Logs subscription payload: gzip-compressed JSON, delivered base64-encoded in
 * `awslogs.data` to a Lambda, or as the raw data of a Kinesis record. Shared by both sources.
 * Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
 */
import { gunzipSync } from "node:zlib";
import { BadRecordError, describeValue, EntryGroup, fromMillis, Labels, LogEntry, Metadata, millisToTime } from "../types";
import { decodeText } from "../parsers/text";
import { relieveMemoryPressure } from "../memory";
import type { SourceContext } from "./context";
import { isObject } from "./detect";

export interface CloudWatchLogEvent {
  id: string;
  timestamp: number;
  message: string;
}

export interface CloudWatchLogsData {
  messageType: "DATA_MESSAGE" | "CONTROL_MESSAGE";
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters: string[];
  logEvents: CloudWatchLogEvent[];
}

/**
 * Strict base64: Node's decoder silently skips garbage, which would turn corruption into
 * nonsense lines. Re-encoding and comparing is native code, several times faster than a regex
 * over a multi-megabyte payload.
 */
export function decodeBase64(data: string, what: string): Buffer {
  const bytes = Buffer.from(data, "base64");
  if (bytes.toString("base64") !== data) throw new BadRecordError(`${what} is not valid base64`);
  return bytes;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Inflates a whole payload, stopping as soon as it exceeds `maxBytes` (MAX_DECOMPRESSED_SIZE):
 * a record of 1 MB may inflate to 1 GB, and the payload must fit in memory with its parsed JSON.
 * zlib checks the limit as it inflates, so no more than `maxBytes` is ever allocated.
 *
 * The output is inflated into one buffer sized from the gzip trailer (ISIZE, the inflated size
 * modulo 4 GiB), bounded by `maxBytes`: in its default 16 KB chunks, zlib joins the chunks into a
 * copy at the end, and both were held at once (a 16 MB payload cost 32 MB for a moment). A trailer
 * that lies costs nothing but that copy again: ISIZE only sizes the first chunk.
 */
export function gunzip(bytes: Uint8Array, what: string, maxBytes: number): Buffer {
  const isize = bytes.length >= 18 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32LE(bytes.length - 4) : 0;
  // One byte more than the output, or zlib asks for another chunk to see that the end was reached.
  const chunkSize = Math.max(64 * 1024, Math.min(isize, maxBytes) + 1);
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes, chunkSize });
  } catch (err) {
    if ((err as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new BadRecordError(
        `${what} inflates to more than ${maxBytes} bytes, the MAX_DECOMPRESSED_SIZE limit; raise it (with the function's memory) if such payloads are legitimate`,
        { cause: err },
      );
    }
    throw new BadRecordError(`${what} is not valid gzip: ${(err as Error).message}`, { cause: err });
  }
}

/** Parses decompressed payload JSON; returns undefined when it is JSON but not a subscription payload. */
export function parseCloudWatchLogsData(text: string, what: string): CloudWatchLogsData | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BadRecordError(`${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(parsed) || (parsed.messageType !== "DATA_MESSAGE" && parsed.messageType !== "CONTROL_MESSAGE")) return undefined;
  if (parsed.messageType === "CONTROL_MESSAGE") return parsed as unknown as CloudWatchLogsData;
  for (const field of ["owner", "logGroup", "logStream"] as const) {
    if (typeof parsed[field] !== "string") throw new BadRecordError(`${what}: field ${field} is missing or not a string`);
  }
  if (!Array.isArray(parsed.logEvents)) throw new BadRecordError(`${what}: field logEvents is missing or not an array`);
  parsed.logEvents.forEach((ev: unknown, i: number) => {
    if (!isObject(ev) || typeof ev.message !== "string" || typeof ev.timestamp !== "number") {
      const timestamp = isObject(ev) ? `, got timestamp ${describeValue(ev.timestamp)}` : "";
      throw new BadRecordError(`${what}: logEvents[${i}] needs a numeric timestamp and a string message${timestamp}`);
    }
  });
  return parsed as unknown as CloudWatchLogsData;
}

export interface CloudWatchGroupOptions {
  /** Labels of the carrying source (e.g. `__aws_log_type`, the Kinesis stream ARN). */
  sourceLabels: Labels;
  keepStream: boolean;
  /** Whether the user asked for the per-event id as structured metadata (avoids an object per entry otherwise). */
  wantEventId: boolean;
  /** Extra candidate metadata of the carrying source (e.g. Kinesis partition key). */
  extraMetadata?: Metadata;
  /** Names the payload in errors, e.g. `kinesis record 4950…`. */
  what: string;
}

/** Builds the entry group of one DATA_MESSAGE: lambda-promtail's labels, timestamps from each event. */
export function cloudWatchGroup(data: CloudWatchLogsData, opts: CloudWatchGroupOptions): EntryGroup {
  const labels: Labels = {
    ...opts.sourceLabels,
    __aws_cloudwatch_log_group: data.logGroup,
    __aws_cloudwatch_owner: data.owner,
  };
  if (opts.keepStream) labels.__aws_cloudwatch_log_stream = data.logStream;
  const events = data.logEvents;
  const entries: LogEntry[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const ev = events[i];
    // Validated here, once per event: Loki refuses a whole push holding one unstorable time.
    // fromMillis, which throws naming the event, runs only then: building that name for every
    // event cost as much as the rest of the loop.
    const { sec, nsec } = millisToTime(ev.timestamp) ?? fromMillis(ev.timestamp, `${opts.what}: logEvents[${i}].timestamp`);
    entries[i] = opts.wantEventId && typeof ev.id === "string"
      ? { sec, nsec, line: ev.message, metadata: { cloudwatch_event_id: ev.id } }
      : { sec, nsec, line: ev.message };
  }
  return {
    labels,
    metadata: { ...opts.extraMetadata, cloudwatch_log_stream: data.logStream, cloudwatch_owner: data.owner },
    entries,
  };
}

/**
 * A gzip subscription payload -> its entry group, or undefined for a CONTROL_MESSAGE (CloudWatch
 * checking that the destination is reachable: nothing to ship) or for JSON that is not a
 * subscription payload (`notPayload` says whether that is an error).
 *
 * Not a generator, so that the inflated bytes, their text and the parsed JSON are garbage once it
 * returns: only the group's entries (which hold the lines) stay alive while they are shipped. A
 * generator's frame would keep them all for as long as the group is read.
 */
export function cloudWatchPayloadGroup(text: string, opts: CloudWatchGroupOptions): CloudWatchPayloadGroup | undefined {
  const data = parseCloudWatchLogsData(text, opts.what);
  if (!data || data.messageType === "CONTROL_MESSAGE") return data && { control: true };
  return { group: cloudWatchGroup(data, opts), logGroup: data.logGroup, owner: data.owner };
}

export type CloudWatchPayloadGroup = { control: true } | { group: EntryGroup; logGroup: string; owner: string; control?: undefined };

/** Inflates and decodes a gzip payload; the inflated bytes are garbage once it returns. */
export function inflateText(bytes: Uint8Array, what: string, maxBytes: number): string {
  relieveMemoryPressure();
  return decodeText(gunzip(bytes, what, maxBytes));
}

/**
 * Adds the log group's tag labels (TAG_LABELS) under the source's own labels, which win on a
 * clash. They join the base labels, so DROP_LABELS and RELABEL_CONFIGS apply to them too.
 */
export async function withTagLabels(group: EntryGroup, logGroup: { logGroup: string; owner: string }, region: string, ctx: SourceContext): Promise<EntryGroup> {
  if (!ctx.tags || region === "") return group;
  const tagLabels = await ctx.tags.labelsFor(logGroup.logGroup, region, logGroup.owner, ctx.deadline);
  return { ...group, labels: { ...tagLabels, ...group.labels } };
}
