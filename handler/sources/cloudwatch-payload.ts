/**
 * The CloudWatch Logs subscription payload: gzip-compressed JSON, delivered base64-encoded in
 * `awslogs.data` to a Lambda, or as the raw data of a Kinesis record. Shared by both sources.
 * Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
 */
import { gunzipSync } from "node:zlib";
import { BadRecordError, describeValue, entryAtMillis, EntryGroup, fromMillis, Labels, LogEntry, Metadata } from "../types";
import { readsEventByEvent, relieveMemoryPressure } from "../memory";
import { rangeDecoder } from "../parsers/text";
import type { SourceContext } from "./context";
import { isObject } from "./detect";
import { ID_ESCAPED, ID_STRING, JsonScanError, LogEventsLayout, MESSAGE_ESCAPED, scanSubscriptionPayload, SubscriptionLayout } from "./subscription-scan";

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
 * a record of 1 MB may inflate to 1 GB, and the payload is held while its events are shipped.
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

export type CloudWatchPayloadGroup = { control: true } | { group: EntryGroup; logGroup: string; owner: string; control?: undefined };

/** Inflates a gzip payload (see gunzip), after relieving memory pressure from the previous one's garbage. */
export function inflate(bytes: Uint8Array, what: string, maxBytes: number): Buffer {
  relieveMemoryPressure();
  return gunzip(bytes, what, maxBytes);
}

/**
 * A subscription payload (its inflated bytes) -> its entry group, or undefined for a
 * CONTROL_MESSAGE (CloudWatch checking that the destination is reachable: nothing to ship) or
 * for JSON that is not a subscription payload (the source says whether that is an error).
 * Throws a BadRecordError when it is not valid JSON or its fields are not those of the format;
 * a payload holding one malformed event, or one time Loki cannot store, makes no entry at all.
 *
 * `eventByEvent` (under memory pressure, see readsEventByEvent): the whole payload is scanned
 * first (subscription-scan.ts: it is valid JSON, every event is well formed, and where each
 * one's parts lie), then each line is decoded from the bytes when the pipeline reads its entry.
 * Only the bytes, not their text nor the parsed JSON of every event, stay alive while the group
 * ships, and the entries of a batch are garbage once it is pushed. Otherwise the payload is
 * parsed whole, which costs less CPU and holds about three times the payload.
 */
export function cloudWatchPayloadGroup(payload: Buffer, opts: CloudWatchGroupOptions, eventByEvent = readsEventByEvent(payload.length)): CloudWatchPayloadGroup | undefined {
  const { ascii, decode } = rangeDecoder(payload);
  if (!eventByEvent) return parsedPayloadGroup(parseJson(decode(0, payload.length), opts.what), opts);
  let layout: SubscriptionLayout | undefined;
  try {
    layout = scanSubscriptionPayload(payload, decode, opts.wantEventId);
  } catch (err) {
    if (!(err instanceof JsonScanError)) throw err;
    // JSON.parse words the error, as when payloads were parsed whole (and reads the payload,
    // were it ever to accept what the scan refused).
    return parsedPayloadGroup(parseJson(decode(0, payload.length), opts.what), opts);
  }
  if (layout === undefined) return undefined;
  const events = layout.logEvents;
  return payloadGroup(layout, events ? events.count : null, () => {
    // As when the payload was parsed whole: no entry of a payload holding a malformed event, then
    // one whose time Loki cannot store. The event, parsed, words the error.
    const refused = events!.firstMalformed ?? events!.firstUnstorable;
    if (refused) {
      refuseEvent(parseJson(decode(refused.start, refused.end), opts.what), refused.index, opts.what);
      throw new Error(`${opts.what}: logEvents[${refused.index}] was refused by the scan but not by its check`);
    }
    return new ScannedEntries(events!, decode, ascii);
  }, opts);
}

/**
 * Entries made one at a time as the pipeline reads them, from events read once: what made an
 * entry is let go of as it is read, and everything once the last one is (the group holding the
 * iterator may outlive its reading: a frame of the pipeline still held the previous record's
 * group while the next record was inflated).
 */
abstract class EntriesAsRead implements IterableIterator<LogEntry> {
  private index = 0;

  constructor(private readonly count: number) {}

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<LogEntry, undefined> {
    const i = this.index++;
    if (i >= this.count) {
      this.release();
      return { done: true, value: undefined };
    }
    return { done: false, value: this.entry(i) };
  }

  /** The entry of event `i`, read once, in order. */
  protected abstract entry(i: number): LogEntry;

  /** Lets go of what made the entries. */
  protected abstract release(): void;
}

/** An entry with its event's id as structured metadata (STRUCTURED_METADATA asked for cloudwatch_event_id). */
function withEventId(entry: LogEntry, id: string): LogEntry {
  return { sec: entry.sec, nsec: entry.nsec, line: entry.line, metadata: { cloudwatch_event_id: id } };
}

/**
 * The entries of scanned events, each line decoded from the payload's bytes when it is read.
 * Read to its end, it lets go of the bytes: the group holding it may outlive its reading (a
 * frame of the pipeline still held the previous record's group while the next record was
 * inflated, and with it two payloads).
 *
 * An ASCII payload (most) is decoded a piece of TEXT_PIECE bytes at a time, and each line is a
 * slice of its piece's text: one native call per piece instead of one per line cost a third of
 * the time of parsing the payload whole.
 */
class ScannedEntries extends EntriesAsRead {
  /** The payload offset past which the next collection under memory pressure runs. */
  private nextCollection = COLLECT_EVERY;
  /** ASCII payloads: the text of bytes pieceStart..pieceEnd. */
  private piece = "";
  private pieceStart = 0;
  private pieceEnd = 0;

  constructor(private events: LogEventsLayout | undefined, private decode: ((start: number, end: number) => string) | undefined, private readonly ascii: boolean) {
    super(events!.count);
  }

  protected release(): void {
    this.events = this.decode = undefined;
    this.piece = "";
  }

  protected entry(i: number): LogEntry {
    const events = this.events!;
    if (events.messageStart[i] >= this.nextCollection) {
      this.nextCollection = events.messageStart[i] + COLLECT_EVERY;
      relieveMemoryPressure();
    }
    const flags = events.flags[i];
    const entry = entryAtMillis(events.timestamps[i], this.text(events.messageStart[i], events.messageEnd[i], (flags & MESSAGE_ESCAPED) !== 0))!;
    return events.idStart && (flags & ID_STRING) !== 0 ? withEventId(entry, this.text(events.idStart[i], events.idEnd![i], (flags & ID_ESCAPED) !== 0)) : entry;
  }

  /** The string inside quotes at start..end: with escapes, JSON.parse decodes it (quotes included); without, it is its bytes. */
  private text(start: number, end: number, escaped: boolean): string {
    if (!this.ascii) return escaped ? JSON.parse(this.decode!(start - 1, end + 1)) as string : this.decode!(start, end);
    if (start - 1 < this.pieceStart || end + 1 > this.pieceEnd) {
      this.pieceStart = start - 1;
      this.pieceEnd = Math.max(end + 1, Math.min(start - 1 + TEXT_PIECE, this.events!.payloadLength));
      this.piece = this.decode!(this.pieceStart, this.pieceEnd);
    }
    const from = start - this.pieceStart;
    const to = end - this.pieceStart;
    return escaped ? JSON.parse(this.piece.slice(from - 1, to + 1)) as string : this.piece.slice(from, to);
  }
}

/**
 * Under memory pressure, a full collection runs after every this many bytes of a payload read
 * event by event: the lines decoded and shipped are garbage that V8 otherwise lets pile up in its
 * old space until the next payload (the 6 MB Kinesis batch of bench/memory.ts peaked at 115-127 MB
 * without, 102-111 MB with, at 2 MB 107-116 MB; the handler took 2.1-2.8 s on it instead of
 * 1.1-1.8 s on this loaded machine: memory, not CPU, is what such a function runs short of).
 */
const COLLECT_EVERY = 1024 * 1024;

/** Bytes of an ASCII payload decoded at once (ScannedEntries): small enough for V8's young generation. */
const TEXT_PIECE = 64 * 1024;

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRecordError(`${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** A payload parsed whole: every event is checked before any entry is made, as the scan does. */
function parsedPayloadGroup(parsed: unknown, opts: CloudWatchGroupOptions): CloudWatchPayloadGroup | undefined {
  if (!isObject(parsed)) return undefined;
  const events = parsed.logEvents;
  if (!Array.isArray(events)) return payloadGroup(parsed, null, () => [], opts);
  return payloadGroup(parsed, events.length, () => {
    // A malformed event refuses the payload wherever it lies (the first one is named), then the
    // first whose time Loki cannot store; entries are made as they are read (ParsedEntries).
    let unstorable = -1;
    for (let i = 0; i < events.length; i++) {
      const { timestamp } = checkedEvent(events[i], i, opts.what);
      if (unstorable < 0 && entryAtMillis(timestamp, "") === undefined) unstorable = i;
    }
    if (unstorable >= 0) refuseEvent(events[unstorable], unstorable, opts.what);
    return new ParsedEntries(events as CloudWatchLogEvent[], opts.wantEventId);
  }, opts);
}

/**
 * The entries of a payload parsed whole (its events checked), each made when it is read: the
 * parsed event is let go of then, with its id and time, and a line lives only as long as its
 * batch. Made all at once, every line stayed alive until the last batch was pushed, and the
 * young-generation collections that ran meanwhile copied the whole parsed payload, then moved it
 * to the old generation (bench/cloudwatch.ts: 17 MB copied per invocation of a 7 MB payload, 8
 * MB made as read; see the README's performance section).
 */
class ParsedEntries extends EntriesAsRead {
  constructor(private events: (CloudWatchLogEvent | undefined)[] | undefined, private readonly wantEventId: boolean) {
    super(events!.length);
  }

  protected release(): void {
    this.events = undefined;
  }

  protected entry(i: number): LogEntry {
    const events = this.events!;
    const { timestamp, message, id } = events[i]!;
    events[i] = undefined;
    const entry = entryAtMillis(timestamp, message)!;
    return this.wantEventId && typeof id === "string" ? withEventId(entry, id) : entry;
  }
}

/**
 * The checks and the group of a payload, whether scanned or parsed whole: `fields` are its
 * top-level fields, `count` the number of its events (null when logEvents is not an array),
 * `entries()` makes its entries or throws why the payload is refused.
 */
function payloadGroup(fields: Omit<SubscriptionLayout, "logEvents">, count: number | null, entries: () => Iterable<LogEntry>, opts: CloudWatchGroupOptions): CloudWatchPayloadGroup | undefined {
  const { what } = opts;
  if (fields.messageType !== "DATA_MESSAGE" && fields.messageType !== "CONTROL_MESSAGE") return undefined;
  if (fields.messageType === "CONTROL_MESSAGE") return { control: true };
  for (const field of ["owner", "logGroup", "logStream"] as const) {
    if (typeof fields[field] !== "string") throw new BadRecordError(`${what}: field ${field} is missing or not a string`);
  }
  if (count === null) throw new BadRecordError(`${what}: field logEvents is missing or not an array`);
  const { owner, logGroup, logStream } = fields as { owner: string; logGroup: string; logStream: string };
  const labels: Labels = { ...opts.sourceLabels, __aws_cloudwatch_log_group: logGroup, __aws_cloudwatch_owner: owner };
  if (opts.keepStream) labels.__aws_cloudwatch_log_stream = logStream;
  return {
    group: { labels, metadata: { ...opts.extraMetadata, cloudwatch_log_stream: logStream, cloudwatch_owner: owner }, entries: entries() },
    logGroup,
    owner,
  };
}

interface CloudWatchLogEvent { id?: unknown; timestamp: number; message: string }

/** A log event, checked: `{timestamp: number, message: string}`. */
function checkedEvent(ev: unknown, i: number, what: string): CloudWatchLogEvent {
  if (!isObject(ev) || typeof ev.message !== "string" || typeof ev.timestamp !== "number") {
    const timestamp = isObject(ev) ? `, got timestamp ${describeValue(ev.timestamp)}` : "";
    throw new BadRecordError(`${what}: logEvents[${i}] needs a numeric timestamp and a string message${timestamp}`);
  }
  return ev as unknown as CloudWatchLogEvent;
}

/**
 * Throws why event `i` refuses its payload: its shape (checkedEvent), else a time Loki cannot
 * store (fromMillis names the event; building that name for every event cost as much as the rest).
 */
function refuseEvent(ev: unknown, i: number, what: string): void {
  fromMillis(checkedEvent(ev, i, what).timestamp, `${what}: logEvents[${i}].timestamp`);
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
