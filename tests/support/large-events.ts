/**
 * The largest events Lambda delivers to the shipper, built to size: a CloudWatch Logs
 * subscription event of at most 1 MB (Lambda's asynchronous payload limit), a Kinesis batch of at
 * most 6 MB (its synchronous payload limit) of records of at most 1 MiB of data each (Kinesis'
 * record limit), and payloads that inflate to just under MAX_DECOMPRESSED_SIZE. Seeded: the same
 * bytes on every run. Used by the memory benchmark and the heap-limit tests.
 */
import { createHash } from "node:crypto";
import { createGzip, gzipSync } from "node:zlib";
import { seededRandom } from "./random";
import { kinesisRecord } from "./events";

export const LAMBDA_ASYNC_PAYLOAD_BYTES = 1024 * 1024;
export const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
export const KINESIS_RECORD_BYTES = 1024 * 1024;

export interface LogEvent { id: string; timestamp: number; message: string }

/** A message source: the i-th event of a log stream. */
export type Messages = (i: number) => string;

/**
 * Realistic application lines: JSON request logs with random ids and latencies, and Lambda REPORT
 * lines. The i-th line depends on i only (the sizing search builds payloads more than once).
 */
export function realisticMessages(seed = 42): Messages {
  const levels = ["info", "info", "info", "debug", "warn", "error"];
  const routes = ["/api/orders", "/api/cart", "/api/users/me", "/healthz", "/api/payments/authorize"];
  return (i) => {
    const rnd = seededRandom(seed * 1_000_003 + i);
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join("");
    const reqId = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
    if (i % 50 === 0) return `REPORT RequestId: ${reqId}\tDuration: ${(rnd() * 900).toFixed(2)} ms\tBilled Duration: ${Math.ceil(rnd() * 900)} ms\tMemory Size: 512 MB\tMax Memory Used: ${Math.floor(60 + rnd() * 200)} MB\t`;
    return JSON.stringify({
      timestamp: new Date(1763798400000 + i * 3).toISOString(), level: levels[Math.floor(rnd() * levels.length)], requestId: reqId,
      method: rnd() < 0.7 ? "GET" : "POST", path: routes[Math.floor(rnd() * routes.length)], status: rnd() < 0.95 ? 200 : 503,
      latencyMs: Math.floor(rnd() * 1200), userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
      msg: rnd() < 0.1 ? "upstream responded slowly, retrying with backoff" : "request completed",
    });
  };
}

/** Very repetitive lines (a health check logged over and over), which gzip shrinks about 30 times. */
export function repetitiveMessages(): Messages {
  return (i) => `{"level":"info","msg":"request completed","method":"GET","path":"/healthz","status":200,"latencyMs":${i % 7},"userAgent":"ELB-HealthChecker/2.0"}`;
}

function logEvents(messages: Messages, count: number, from = 0): LogEvent[] {
  const events: LogEvent[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const i = from + k;
    const timestamp = 1763798400000 + i * 3;
    // CloudWatch's event ids: 56 digits, consecutive events sharing most of them.
    events[k] = { id: `3795310660696698337880902507980421114328961542429${String(i).padStart(7, "0")}`, timestamp, message: messages(i) };
  }
  return events;
}

function subscriptionPayload(events: LogEvent[], logGroup = "/aws/lambda/checkout-api"): string {
  return JSON.stringify({
    messageType: "DATA_MESSAGE", owner: "123456789012", logGroup,
    logStream: "2025/11/22/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0", subscriptionFilters: ["lambda-promtail"], logEvents: events,
  });
}

export interface BuiltPayload {
  /** The gzip-compressed subscription payload. */
  gz: Buffer;
  /** Its size inflated (the JSON text). */
  inflatedBytes: number;
  events: number;
  /** Bytes of log lines (the messages, UTF-8). */
  textBytes: number;
}

/**
 * A subscription payload with nearly the most events of `messages` (within 1%) such that its gzip
 * is at most `maxGzipBytes` and its JSON at most `maxInflatedBytes`: the event count is scaled by
 * how far each try lands from the limits, a few gzips instead of a bisection's twenty.
 */
export function payloadOfSize(messages: Messages, maxGzipBytes: number, maxInflatedBytes = Infinity, from = 0): BuiltPayload {
  const build = (count: number): BuiltPayload => {
    const events = logEvents(messages, count, from);
    const json = subscriptionPayload(events);
    let textBytes = 0;
    for (const e of events) textBytes += Buffer.byteLength(e.message);
    return { gz: gzipSync(json), inflatedBytes: Buffer.byteLength(json), events: count, textBytes };
  };
  let best: BuiltPayload | undefined;
  let count = 1024;
  for (let tries = 0; tries < 12; tries++) {
    const p = build(count);
    const scale = Math.min(maxGzipBytes / p.gz.length, maxInflatedBytes / p.inflatedBytes);
    if (scale >= 1 && (!best || p.events > best.events)) best = p;
    if (scale >= 1 && scale < 1.01) break;
    count = Math.max(1, Math.floor(count * (scale >= 1 ? Math.min(scale, 16) * 0.997 : scale * 0.99)));
  }
  if (!best) throw new Error(`no payload of these messages fits in ${maxGzipBytes} bytes of gzip`);
  return best;
}

/** A CloudWatch Logs subscription event whose JSON is at most `maxEventBytes`: base64 is 4/3 of the gzip. */
export function cloudWatchEventOfSize(messages: Messages, maxEventBytes = LAMBDA_ASYNC_PAYLOAD_BYTES, maxInflatedBytes = Infinity): { event: { awslogs: { data: string } }; payload: BuiltPayload } {
  const envelope = JSON.stringify({ awslogs: { data: "" } }).length;
  const payload = payloadOfSize(messages, Math.floor((maxEventBytes - envelope) * 3 / 4) - 3, maxInflatedBytes);
  return { event: { awslogs: { data: payload.gz.toString("base64") } }, payload };
}

/**
 * A Kinesis batch whose JSON is at most `maxEventBytes`, of records each holding a gzip
 * subscription payload (as a subscription filter with a Kinesis destination writes) of at most
 * `recordBytes` of data, whose payloads inflate to at most `maxInflatedBytes`.
 */
export function kinesisBatchOfSize(messages: Messages, opts: { maxEventBytes?: number; recordBytes?: number; maxInflatedBytes?: number } = {}) {
  const maxEventBytes = opts.maxEventBytes ?? LAMBDA_SYNC_PAYLOAD_BYTES;
  const recordBytes = opts.recordBytes ?? KINESIS_RECORD_BYTES;
  const records: ReturnType<typeof kinesisRecord>[] = [];
  const payloads: BuiltPayload[] = [];
  let from = 0;
  const size = () => JSON.stringify({ Records: records }).length;
  const recordOverhead = JSON.stringify(kinesisRecord("0".repeat(56), "")).length + 1;
  for (;;) {
    // The last record takes the room that is left.
    const room = Math.floor((maxEventBytes - size() - recordOverhead) * 3 / 4) - 3;
    if (room < 1024) break;
    const payload = payloadOfSize(messages, Math.min(recordBytes, room), opts.maxInflatedBytes ?? Infinity, from);
    const seq = `4959003324523488234567890123456789012345678901234567${String(records.length).padStart(4, "0")}`;
    records.push(kinesisRecord(seq, payload.gz.toString("base64"), 1763798400.5 + records.length));
    payloads.push(payload);
    from += payload.events;
  }
  if (size() > maxEventBytes) throw new Error(`built a ${size()}-byte Kinesis batch, more than ${maxEventBytes}`);
  return { event: { Records: records }, payloads };
}

/** Characters of every UTF-8 width, so that piece boundaries fall inside characters. */
const NEWLINE_FREE_PATTERN = Buffer.from("a\u00e9\u20ac\u{1f600}-newline-free ALB log garbage ", "utf8");

/**
 * An S3 object of about `bytes` of text without a newline (whole repetitions of a pattern of
 * characters of every UTF-8 width), gzipped as a stream (a 300 MB object is never held), with its
 * exact size and SHA-256.
 */
export async function newlineFreeObject(bytes: number): Promise<{ gz: Buffer; sha256: string; bytes: number }> {
  const gzip = createGzip({ level: 1 });
  const hash = createHash("sha256");
  const out: Buffer[] = [];
  gzip.on("data", (chunk: Buffer) => out.push(chunk));
  const done = new Promise((resolve, reject) => { gzip.on("end", resolve); gzip.on("error", reject); });
  const block = Buffer.concat(Array.from({ length: Math.floor(1024 * 1024 / NEWLINE_FREE_PATTERN.length) }, () => NEWLINE_FREE_PATTERN));
  let written = 0;
  while (written + block.length <= bytes) {
    hash.update(block);
    written += block.length;
    if (!gzip.write(block)) await new Promise((resolve) => gzip.once("drain", resolve));
  }
  gzip.end();
  await done;
  return { gz: Buffer.concat(out), sha256: hash.digest("hex"), bytes: written };
}
