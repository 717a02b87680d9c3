/**
 * A local stand-in for Loki's push endpoint, for tests and for the CLI's dry-run sink.
 *
 * `LokiReceiver` listens on 127.0.0.1 (a free port) and implements
 * `POST /loki/api/v1/push` with `Content-Type: application/x-protobuf`: the body is a
 * Snappy-block-compressed `logproto.PushRequest`. It decodes bodies with code that shares
 * nothing with the shipper's encoder (the hand-written wire reader in proto-wire.ts) and,
 * since the shipper compresses with either snappy implementation (handler/loki/snappy.ts),
 * uncompresses with both and refuses a body on which they disagree. It records what it
 * received and answers 204 unless told otherwise (`respondWith`, `rejectBodiesLargerThan`,
 * `requireTenant`, `refuseTenant`, `requireAuthorization`). Like Loki's router it answers 404 to other paths
 * and 405 to other methods.
 *
 * ```ts
 * const loki = new LokiReceiver();
 * const url = await loki.start();
 * loki.respondWith(500, { status: 400, body: "entry too far behind" });
 * // ... push to url ...
 * countEntries(loki.acceptedPushes()).duplicates === 0;
 * await loki.stop();
 * ```
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { uncompressSync } from "snappy";
import * as snappyjs from "snappyjs";
import { WireReader, WireType, decodeUtf8 } from "./proto-wire";

export const PUSH_PATH = "/loki/api/v1/push";

export interface ReceivedEntry {
  sec: number;
  nsec: number;
  line: string;
  /** Structured metadata pairs, in wire order (an object keeps insertion order). */
  metadata: Record<string, string>;
}

export interface ReceivedStream {
  labels: string;
  entries: ReceivedEntry[];
}

/** One push request that decoded successfully, with the status it was answered. */
export interface ReceivedPush {
  streams: ReceivedStream[];
  status: number;
  /** Size of the request body as sent (compressed). */
  compressedBytes: number;
  /** Size of the PushRequest after Snappy decompression. */
  decodedBytes: number;
  /** The request's X-Scope-OrgID, if any. */
  tenant?: string;
}

/** Every request the receiver answered, decodable or not. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
  status: number;
  /** What the receiver answered in the body (empty for 204). */
  responseBody: string;
}

/** A scripted answer for the next request. */
export interface ScriptedResponse {
  status: number;
  /** Response body; defaults to the body set with `setBody(status)`, else a generic message. */
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (to exercise client timeouts). */
  delayMs?: number;
  /**
   * Never answer (a Loki that hangs): the request stays open until the client gives up or the
   * receiver stops. The push is still decoded and recorded in `received`, with status 0;
   * `status` is ignored.
   */
  hang?: boolean;
}

export interface LokiReceiverOptions {
  /** Called for every decoded push, e.g. to print it in a dry run. */
  onPush?: (push: ReceivedPush) => void;
  /** Keep decoded pushes in `received` (default true; a long dry run may turn it off). */
  keepReceived?: boolean;
}

/** Which size `rejectBodiesLargerThan` compares: the body on the wire (as a proxy would) or the decoded PushRequest (as Loki's message-size limit does). */
export type SizeMeasure = "compressed" | "decoded";

export class LokiReceiver {
  /** Decoded pushes, in arrival order. */
  readonly received: ReceivedPush[] = [];
  /** Every request answered, in arrival order. */
  readonly requests: ReceivedRequest[] = [];

  /** TCP connections accepted so far (keep-alive clients reuse one). */
  connectionCount = 0;
  /** Requests left hanging (`hang`) that the client gave up on by closing the connection. */
  hangsClosedByClient = 0;

  private server: http.Server | undefined;
  private readonly scripted: ScriptedResponse[] = [];
  private readonly bodies = new Map<number, string>();
  private sizeLimit: { bytes: number; measure: SizeMeasure } | undefined;
  private tenantRequired = false;
  private readonly refusedTenants = new Map<string, number>();
  private expectedAuthorization: string | undefined;
  /** Responses waiting for their `delayMs`; cleared on stop so nothing outlives the receiver. */
  private readonly delayed = new Set<NodeJS.Timeout>();

  constructor(private readonly options: LokiReceiverOptions = {}) {}

  /** Starts listening on 127.0.0.1 at a free port; resolves to the push URL. */
  async start(): Promise<string> {
    if (this.server) throw new Error("receiver already started");
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on("connection", () => this.connectionCount++);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return this.url;
  }

  /** The push URL; only valid after `start()`. */
  get url(): string {
    if (!this.server) throw new Error("receiver not started");
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${PUSH_PATH}`;
  }

  /** Stops listening and drops open (keep-alive) connections. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Answers the next requests with these statuses (or scripted responses), then 204 again. */
  respondWith(...responses: Array<number | ScriptedResponse>): this {
    for (const response of responses) this.scripted.push(typeof response === "number" ? { status: response } : response);
    return this;
  }

  /** Sets the body sent with `status` when a scripted response has none, e.g. Loki's 400 reason. */
  setBody(status: number, body: string): this {
    this.bodies.set(status, body);
    return this;
  }

  /** Answers 413 to every body larger than `bytes` (undefined turns it off). */
  rejectBodiesLargerThan(bytes: number | undefined, measure: SizeMeasure = "compressed"): this {
    this.sizeLimit = bytes === undefined ? undefined : { bytes, measure };
    return this;
  }

  /**
   * Answers like a Loki with `auth_enabled: true`: 401 "no org id" to a push without
   * `X-Scope-OrgID`, and 400 (nothing stored) to one whose tenant id dskit's ValidTenantID refuses.
   */
  requireTenant(required = true): this {
    this.tenantRequired = required;
    return this;
  }

  /** Answers `status` (401 by default, as Loki for a tenant the credentials may not write to) to every push for `tenant`. */
  refuseTenant(tenant: string, status = 401): this {
    this.refusedTenants.set(tenant, status);
    return this;
  }

  /** Answers like an authenticating gateway: 401 to a push whose `Authorization` header is not `expected` (undefined turns it off). */
  requireAuthorization(expected: string | undefined): this {
    this.expectedAuthorization = expected;
    return this;
  }

  /** Forgets what was received and any scripted responses; keeps listening. */
  reset(): void {
    this.received.length = 0;
    this.requests.length = 0;
    this.connectionCount = 0;
    this.hangsClosedByClient = 0;
    this.scripted.length = 0;
    this.bodies.clear();
    this.sizeLimit = undefined;
    this.tenantRequired = false;
    this.refusedTenants.clear();
    this.expectedAuthorization = undefined;
  }

  /** Pushes answered with a 2xx status: what a real Loki would have stored in full. */
  acceptedPushes(): ReceivedPush[] {
    return this.received.filter((push) => push.status >= 200 && push.status < 300);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", () => res.destroy()); // the client went away mid-request
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const { status, text, headers, delayMs, hang } = this.answer(req, body);
      this.requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        bodyBytes: body.length,
        status,
        responseBody: text,
      });
      if (hang) {
        res.on("close", () => this.hangsClosedByClient++);
        return;
      }
      const send = (): void => {
        this.delayed.delete(timer);
        if (res.destroyed) return;
        res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", ...headers });
        res.end(status === 204 ? undefined : text);
      };
      const timer = setTimeout(send, delayMs);
      this.delayed.add(timer);
    });
  }

  private answer(req: http.IncomingMessage, body: Buffer): { status: number; text: string; headers: Record<string, string>; delayMs: number; hang?: boolean } {
    const plain = (status: number, text: string) => ({ status, text: text.length > 0 ? `${text}\n` : "", headers: {}, delayMs: 0 });
    const path = (req.url ?? "").split("?")[0];
    if (path !== PUSH_PATH) return plain(404, "404 page not found");
    if (req.method !== "POST") return plain(405, "method not allowed");
    if (this.expectedAuthorization !== undefined && req.headers.authorization !== this.expectedAuthorization) {
      return plain(401, "authentication error: invalid authentication credentials");
    }
    const tenant = req.headers["x-scope-orgid"];
    if (this.tenantRequired && !tenant) return plain(401, "no org id");
    if (this.tenantRequired && typeof tenant === "string") {
      // Loki's push handler: tenant.TenantID(ctx) fails -> 400, the push is not read at all.
      if (tenant.includes("|")) return plain(400, "multiple org IDs present");
      const unsupported = [...tenant].find((c) => !/[A-Za-z0-9!\-_.*'()]/.test(c));
      if (unsupported !== undefined) return plain(400, `tenant ID '${tenant}' contains unsupported character '${unsupported}'`);
      if (tenant.length > 150) return plain(400, "tenant ID is too long: max 150 characters");
      if (tenant === "." || tenant === "..") return plain(400, "tenant ID is '.' or '..'");
    }
    const refusal = typeof tenant === "string" ? this.refusedTenants.get(tenant) : undefined;
    if (refusal !== undefined) return plain(refusal, `tenant ${tenant} may not write here`);
    const contentType = (req.headers["content-type"] ?? "").split(";")[0].trim();
    if (contentType !== "application/x-protobuf") {
      return plain(415, `this receiver only decodes application/x-protobuf, got "${contentType}"`);
    }
    const limit = this.sizeLimit;
    if (limit?.measure === "compressed" && body.length > limit.bytes) {
      return plain(413, `request body of ${body.length} bytes exceeds the limit of ${limit.bytes}`);
    }
    let decoded: Buffer;
    let streams: ReceivedStream[];
    try {
      decoded = uncompressBoth(body);
    } catch (error) {
      return plain(400, `snappy: ${(error as Error).message}`);
    }
    if (limit?.measure === "decoded" && decoded.length > limit.bytes) {
      return plain(413, `decoded message of ${decoded.length} bytes exceeds the limit of ${limit.bytes}`);
    }
    try {
      streams = decodePushRequest(decoded);
    } catch (error) {
      return plain(400, `error decoding push request: ${(error as Error).message}`);
    }
    const scripted = this.scripted.shift() ?? { status: 204 };
    // A push never answered is recorded with status 0: nothing says Loki stored it.
    const push: ReceivedPush = {
      streams, status: scripted.hang ? 0 : scripted.status, compressedBytes: body.length, decodedBytes: decoded.length,
      ...(typeof tenant === "string" ? { tenant } : {}),
    };
    if (this.options.keepReceived !== false) this.received.push(push);
    this.options.onPush?.(push);
    const text = scripted.body ?? this.bodies.get(scripted.status) ?? (scripted.status >= 300 ? `scripted status ${scripted.status}` : "");
    if (scripted.hang) return { ...plain(0, ""), hang: true };
    return { ...plain(scripted.status, text), headers: scripted.headers ?? {}, delayMs: scripted.delayMs ?? 0 };
  }
}

/** Uncompresses a snappy block with the Rust and the JavaScript implementation; they must agree. */
function uncompressBoth(body: Buffer): Buffer {
  const native = uncompressSync(body, { asBuffer: true }) as Buffer;
  const javascript = snappyjs.uncompress(body);
  if (!native.equals(javascript)) throw new Error("the native and the snappyjs decoder disagree on this body");
  return native;
}

// ---- PushRequest decoding (field numbers from Loki's pkg/push/push.proto) ----

/** Decodes an uncompressed `logproto.PushRequest`, rejecting malformed or non-canonical input. */
export function decodePushRequest(bytes: Uint8Array): ReceivedStream[] {
  const reader = new WireReader(bytes, { canonicalVarints: true });
  const streams: ReceivedStream[] = [];
  while (!reader.done) {
    const tag = reader.readTag();
    if (tag.field === 1) {
      WireReader.expect(tag, WireType.LEN, "PushRequest.streams");
      streams.push(decodeStream(reader.readLengthDelimited()));
    } else {
      reader.skip(tag.wireType);
    }
  }
  return streams;
}

function decodeStream(bytes: Uint8Array): ReceivedStream {
  const reader = new WireReader(bytes, { canonicalVarints: true });
  const stream: ReceivedStream = { labels: "", entries: [] };
  while (!reader.done) {
    const tag = reader.readTag();
    switch (tag.field) {
      case 1:
        WireReader.expect(tag, WireType.LEN, "StreamAdapter.labels");
        stream.labels = reader.readString();
        break;
      case 2:
        WireReader.expect(tag, WireType.LEN, "StreamAdapter.entries");
        stream.entries.push(decodeEntry(reader.readLengthDelimited()));
        break;
      case 3:
        WireReader.expect(tag, WireType.VARINT, "StreamAdapter.hash");
        reader.readVarint();
        break;
      default:
        reader.skip(tag.wireType);
    }
  }
  return stream;
}

function decodeEntry(bytes: Uint8Array): ReceivedEntry {
  const reader = new WireReader(bytes, { canonicalVarints: true });
  const entry: ReceivedEntry = { sec: 0, nsec: 0, line: "", metadata: {} };
  while (!reader.done) {
    const tag = reader.readTag();
    switch (tag.field) {
      case 1: {
        WireReader.expect(tag, WireType.LEN, "EntryAdapter.timestamp");
        const { seconds, nanos } = decodeTimestamp(reader.readLengthDelimited());
        entry.sec = seconds;
        entry.nsec = nanos;
        break;
      }
      case 2:
        WireReader.expect(tag, WireType.LEN, "EntryAdapter.line");
        entry.line = reader.readString();
        break;
      case 3: {
        WireReader.expect(tag, WireType.LEN, "EntryAdapter.structuredMetadata");
        const { name, value } = decodeLabelPair(reader.readLengthDelimited());
        entry.metadata[name] = value;
        break;
      }
      default:
        reader.skip(tag.wireType);
    }
  }
  return entry;
}

/** google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const TIMESTAMP_MIN_SECONDS = -62_135_596_800;
const TIMESTAMP_MAX_SECONDS = 253_402_300_799;

function decodeTimestamp(bytes: Uint8Array): { seconds: number; nanos: number } {
  const reader = new WireReader(bytes, { canonicalVarints: true });
  let seconds = 0;
  let nanos = 0;
  while (!reader.done) {
    const tag = reader.readTag();
    if (tag.field === 1) {
      WireReader.expect(tag, WireType.VARINT, "Timestamp.seconds");
      seconds = reader.readInt64();
    } else if (tag.field === 2) {
      WireReader.expect(tag, WireType.VARINT, "Timestamp.nanos");
      nanos = reader.readInt32();
    } else {
      reader.skip(tag.wireType);
    }
  }
  if (nanos < 0 || nanos > 999_999_999) throw new Error(`Timestamp.nanos ${nanos} out of range`);
  // Loki decodes entry times into Go's time.Time through gogo's StdTimeUnmarshal, which refuses
  // what google.protobuf.Timestamp cannot hold: the whole push is then a 400.
  if (seconds < TIMESTAMP_MIN_SECONDS || seconds > TIMESTAMP_MAX_SECONDS) {
    throw new Error(`timestamp: seconds:${seconds} nanos:${nanos} is outside 0001-01-01 to 9999-12-31`);
  }
  return { seconds, nanos };
}

function decodeLabelPair(bytes: Uint8Array): { name: string; value: string } {
  const reader = new WireReader(bytes, { canonicalVarints: true });
  let name = "";
  let value = "";
  while (!reader.done) {
    const tag = reader.readTag();
    if (tag.field === 1) {
      WireReader.expect(tag, WireType.LEN, "LabelPairAdapter.name");
      name = decodeUtf8(reader.readLengthDelimited());
    } else if (tag.field === 2) {
      WireReader.expect(tag, WireType.LEN, "LabelPairAdapter.value");
      value = decodeUtf8(reader.readLengthDelimited());
    } else {
      reader.skip(tag.wireType);
    }
  }
  return { name, value };
}

// ---- Assertion helpers ----

/** Identity of an entry as Loki deduplicates it: stream labels, timestamp and line. */
export function entryKey(labels: string, entry: { sec: number; nsec: number; line: string }): string {
  return JSON.stringify([labels, entry.sec, entry.nsec, entry.line]);
}

export interface EntryCount {
  /** Entries over all pushes, duplicates included. */
  total: number;
  /** Distinct (labels, timestamp, line) entries. */
  distinct: number;
  /** total - distinct: entries that arrived more than once. */
  duplicates: number;
  /** How often each entry key arrived. */
  counts: Map<string, number>;
}

/** Counts entries of `pushes` by (labels, timestamp, line), to assert "every line arrives exactly once". */
export function countEntries(pushes: readonly ReceivedPush[]): EntryCount {
  const counts = new Map<string, number>();
  let total = 0;
  for (const push of pushes) {
    for (const stream of push.streams) {
      for (const entry of stream.entries) {
        const key = entryKey(stream.labels, entry);
        counts.set(key, (counts.get(key) ?? 0) + 1);
        total++;
      }
    }
  }
  return { total, distinct: counts.size, duplicates: total - counts.size, counts };
}

// ---- Label strings ----

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/**
 * Parses a label string in Prometheus/Loki form, `{a="x", b="y"}`, into an object. Values
 * are Go-quoted strings (strconv.Quote): `\\`, `\"`, `\n`, `\t`, `\xHH`, `\uHHHH`, … .
 * Throws on anything malformed or on a repeated name.
 */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let pos = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`invalid label string at offset ${pos} (${what}): ${text}`);
  };
  const skipSpaces = (): void => {
    while (pos < text.length && (text[pos] === " " || text[pos] === "\t")) pos++;
  };
  skipSpaces();
  if (text[pos] !== "{") fail("expected '{'");
  pos++;
  skipSpaces();
  if (text[pos] === "}") {
    pos++;
  } else {
    for (;;) {
      skipSpaces();
      const name = LABEL_NAME.exec(text.slice(pos))?.[0] ?? fail("expected a label name");
      pos += name.length;
      skipSpaces();
      if (text[pos] !== "=") fail("expected '='");
      pos++;
      skipSpaces();
      const { value, end } = unquoteGoString(text, pos);
      pos = end;
      if (Object.prototype.hasOwnProperty.call(labels, name)) fail(`label ${name} repeated`);
      labels[name] = value;
      skipSpaces();
      if (text[pos] === ",") {
        pos++;
        continue;
      }
      if (text[pos] === "}") {
        pos++;
        break;
      }
      fail("expected ',' or '}'");
    }
  }
  skipSpaces();
  if (pos !== text.length) fail("trailing characters");
  return labels;
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92, '"': 34 };

/**
 * Decodes the Go double-quoted string literal starting at `start`. Go strings are bytes:
 * `\x` and octal escapes give single bytes, so the result is built as UTF-8 bytes and
 * decoded at the end.
 */
export function unquoteGoString(text: string, start: number): { value: string; end: number } {
  if (text[start] !== '"') throw new SyntaxError(`expected '"' at offset ${start}: ${text}`);
  const bytes: number[] = [];
  const pushCodePoint = (codePoint: number): void => {
    bytes.push(...Buffer.from(String.fromCodePoint(codePoint), "utf8"));
  };
  const hex = (from: number, digits: number): number => {
    const part = text.slice(from, from + digits);
    if (part.length !== digits || !/^[0-9a-fA-F]+$/.test(part)) throw new SyntaxError(`bad escape at offset ${from - 2}: ${text}`);
    return parseInt(part, 16);
  };
  let pos = start + 1;
  while (pos < text.length) {
    const char = text[pos];
    if (char === '"') return { value: Buffer.from(bytes).toString("utf8"), end: pos + 1 };
    if (char === "\n") break; // Go string literals cannot span lines
    if (char !== "\\") {
      const codePoint = text.codePointAt(pos) as number;
      pushCodePoint(codePoint);
      pos += codePoint > 0xffff ? 2 : 1;
      continue;
    }
    const escape = text[pos + 1];
    if (escape !== undefined && escape in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[escape]);
      pos += 2;
    } else if (escape === "x") {
      bytes.push(hex(pos + 2, 2));
      pos += 4;
    } else if (escape === "u" || escape === "U") {
      const digits = escape === "u" ? 4 : 8;
      const codePoint = hex(pos + 2, digits);
      if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
        throw new SyntaxError(`invalid code point escape at offset ${pos}: ${text}`);
      }
      pushCodePoint(codePoint);
      pos += 2 + digits;
    } else if (escape !== undefined && escape >= "0" && escape <= "7") {
      const octal = text.slice(pos + 1, pos + 4);
      if (!/^[0-7]{3}$/.test(octal) || parseInt(octal, 8) > 255) throw new SyntaxError(`bad octal escape at offset ${pos}: ${text}`);
      bytes.push(parseInt(octal, 8));
      pos += 4;
    } else {
      throw new SyntaxError(`unknown escape at offset ${pos}: ${text}`);
    }
  }
  throw new SyntaxError(`unterminated string starting at offset ${start}: ${text}`);
}
