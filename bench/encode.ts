/**
 * Loki push body: from labelled entries to the snappy-compressed PushRequest.
 * Compares ways of writing the protobuf (protobufjs reflection from push.proto, protobufjs's
 * Writer through its public API, our single-pass writer), the snappy compressors, the
 * whole batch -> encode -> compress path, and the decoders of the 413 path (reflection, ours), each in MB/s of log text and as a ratio to zlib
 * gunzip of the same text measured in the same run.
 *
 * Run alone with `npx ts-node bench/encode.ts` (or through `npm run bench`).
 */
import { gunzipSync, gzipSync } from "node:zlib";
import * as protobuf from "protobufjs";
import * as snappyjs from "snappyjs";
import type { LogEntry } from "../handler/types";
import { Batcher, type Stream } from "../handler/loki/batch";
import { decodePushRequest } from "../handler/loki/decode";
import { encodeAndCompress, encodePushRequest } from "../handler/loki/encode";
import { useSnappyImplementation } from "../handler/loki/snappy";
import { decodeWithProtobufjsReflection, encodeWithProtobufjsReflection } from "../tests/support/protobufjs-reference";
import { mb, row, seededRandom } from "./support";

const BATCH_BYTES = 1024 * 1024;
const ROUNDS = 31;

interface Corpus {
  name: string;
  /** Labelled entries in arrival order, as the label pipeline hands them to the batcher. */
  items: Array<{ labels: string; entry: LogEntry }>;
}

/** ALB access-log lines (S3 path): ~330 bytes, 8 load balancers, no structured metadata. */
function albCorpus(): Corpus {
  const rnd = seededRandom(7);
  const items: Corpus["items"] = [];
  for (let i = 0, bytes = 0; bytes < BATCH_BYTES * 0.95; i++) {
    const lb = i % 8;
    const ip = `10.${Math.floor(rnd() * 255)}.${Math.floor(rnd() * 255)}.${Math.floor(rnd() * 255)}`;
    const line =
      `https 2025-11-22T10:${String(i % 60).padStart(2, "0")}:${String(Math.floor(rnd() * 60)).padStart(2, "0")}.${Math.floor(rnd() * 1e6)}Z ` +
      `app/shop-lb-${lb}/50dc6c495c0c9188 ${ip}:${Math.floor(rnd() * 65535)} 10.0.1.${lb}:8080 0.00${Math.floor(rnd() * 9)} 0.0${Math.floor(rnd() * 99)} 0.000 ` +
      `${rnd() < 0.97 ? 200 : 502} 200 ${Math.floor(rnd() * 900)} ${Math.floor(rnd() * 90000)} "GET https://shop.example.com:443/api/items/${Math.floor(rnd() * 1e6)}?page=${Math.floor(rnd() * 40)} HTTP/1.1" ` +
      `"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ` +
      `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-${lb}/73e2d6bc24d8a067 "Root=1-6741${Math.floor(rnd() * 1e12).toString(16)}"`;
    const labels = `{__aws_log_type="s3_lb", __aws_s3_lb="shop-lb-${lb}", __aws_s3_lb_owner="123456789012"}`;
    items.push({ labels, entry: { sec: 1_763_805_600 + (i >> 5), nsec: Math.floor(rnd() * 1e6) * 1000, line } });
    bytes += line.length;
  }
  return { name: "ALB access log", items };
}

/** CloudWatch JSON application lines: ~300 bytes, 3 log groups, some non-ASCII, structured metadata. */
function cloudwatchCorpus(): Corpus {
  const rnd = seededRandom(42);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join("");
  const items: Corpus["items"] = [];
  const groupMetadata = [0, 1, 2].map((group) => ({ cloudwatch_log_stream: `2025/11/22/[$LATEST]${group}f1e2d3c4b5a69788796a5b4c3d2e1f0`, cloudwatch_owner: "123456789012" }));
  for (let i = 0, bytes = 0; bytes < BATCH_BYTES * 0.8; i++) {
    const group = i % 3;
    const line = JSON.stringify({
      timestamp: new Date(1_763_805_600_000 + i * 3).toISOString(),
      level: rnd() < 0.8 ? "info" : "warn",
      requestId: `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
      path: `/api/orders/${Math.floor(rnd() * 1e6)}`,
      latencyMs: Math.floor(rnd() * 1200),
      msg: i % 40 === 0 ? "Bestellung übermittelt ✓ (注文)" : "request completed",
      userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
    });
    const labels = `{__aws_cloudwatch_log_group="/aws/lambda/checkout-${group}", __aws_log_type="cloudwatch"}`;
    // As in the pipeline, the entries of one group share the group's metadata object.
    const metadata = groupMetadata[group];
    items.push({ labels, entry: { sec: 1_763_805_600 + (i >> 6), nsec: (i % 1000) * 1_000_000, line, metadata } });
    bytes += Buffer.byteLength(line);
  }
  return { name: "CloudWatch JSON lines", items };
}

function batch(corpus: Corpus): Stream[] {
  const batcher = new Batcher(Number.MAX_SAFE_INTEGER);
  corpus.items.forEach((item, i) => batcher.add(item.labels, item.entry, i));
  return batcher.take().streams;
}

/** protobufjs's encoder generated from push.proto (what static code generation would emit), fed plain objects. */
const encodeWithReflection = encodeWithProtobufjsReflection;

/** protobufjs's Writer through its public API only: `string()` measures UTF-8 length, then encodes. */
function encodeWithWriterApi(streams: readonly Stream[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const stream of streams) {
    w.uint32(0x0a).fork().uint32(0x0a).string(stream.labels);
    for (const entry of stream.entries) {
      w.uint32(0x12).fork().uint32(0x0a).fork();
      if (entry.sec !== 0) w.uint32(0x08).int64(entry.sec);
      if (entry.nsec !== 0) w.uint32(0x10).int32(entry.nsec);
      w.ldelim();
      if (entry.line !== "") w.uint32(0x12).string(entry.line);
      const metadata = entry.metadata;
      if (metadata !== undefined) {
        for (const name of Object.keys(metadata).sort()) w.uint32(0x1a).fork().uint32(0x0a).string(name).uint32(0x12).string(metadata[name]).ldelim();
      }
      w.ldelim();
    }
    w.ldelim();
  }
  return w.finish();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function secondsOf(fn: () => unknown): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Median times of `fn` and of the gunzip reference, measured in alternating rounds so that
 * both see the same machine load (the machines this runs on are shared and noisy).
 */
function pairedMedians(fn: () => unknown, gunzip: () => unknown): { seconds: number; gunzip: number } {
  fn();
  gunzip();
  const times: number[] = [];
  const references: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    references.push(secondsOf(gunzip));
    times.push(secondsOf(fn));
  }
  return { seconds: median(times), gunzip: median(references) };
}

/** The binding's default output, an external buffer freed by a finaliser: why snappy.ts asks for a copy. */
function nativeExternalBuffer(input: Uint8Array): Uint8Array {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("snappy") as { compressSync(input: Uint8Array): Uint8Array }).compressSync(input);
}

async function benchCorpus(corpus: Corpus): Promise<void> {
  const streams = batch(corpus);
  const lines = corpus.items.length;
  const textBytes = corpus.items.reduce((sum, item) => sum + Buffer.byteLength(item.entry.line), 0);
  const encoded = Buffer.from(encodePushRequest(streams));
  for (const [name, variant] of [
    ["reflection", encodeWithReflection],
    ["writer API", encodeWithWriterApi],
  ] as const) {
    if (!Buffer.from(variant(streams)).equals(encoded)) throw new Error(`${name} encoding differs from encodePushRequest`);
  }
  if (JSON.stringify(decodeWithProtobufjsReflection(encoded)) !== JSON.stringify(decodePushRequest(encoded))) throw new Error("the two decoders read different streams");
  const gz = gzipSync(corpus.items.map((item) => item.entry.line).join("\n"));
  const body = encodeAndCompress(streams);

  console.log(`Loki push body, ${corpus.name}`);
  row("payload", `${mb(textBytes).toFixed(2)} MB log text, ${lines} lines, ${streams.length} streams, PushRequest ${mb(encoded.length).toFixed(2)} MB, snappy ${mb(body.length).toFixed(2)} MB`);
  const gunzipTimes: number[] = [];
  const report = async (name: string, fn: () => unknown): Promise<void> => {
    const { seconds, gunzip } = pairedMedians(fn, () => gunzipSync(gz));
    gunzipTimes.push(gunzip);
    row(name, `${(mb(textBytes) / seconds).toFixed(1).padStart(7)} MB/s  ${Math.round(lines / seconds).toLocaleString("en").padStart(10)} lines/s  ratio ${(gunzip / seconds).toFixed(2)}`);
  };
  await report("encode: protobufjs reflection", () => encodeWithReflection(streams));
  await report("encode: protobufjs Writer API", () => encodeWithWriterApi(streams));
  await report("encode: encodePushRequest (ours)", () => encodePushRequest(streams));
  const snappyjsCompress = useSnappyImplementation("snappyjs").compress;
  const nativeCompress = useSnappyImplementation("native").compress;
  await report("compress: snappyjs", () => snappyjsCompress(encoded));
  await report("compress: native snappy (used)", () => nativeCompress(encoded));
  await report("compress: native, external buffer", () => nativeExternalBuffer(encoded));
  await report("batch: Batcher add + take", () => batch(corpus));
  await report("encode+compress: reflection+snappyjs", () => snappyjs.compress(Buffer.from(encodeWithReflection(streams))));
  useSnappyImplementation("snappyjs");
  await report("encode+compress: ours, snappyjs", () => encodeAndCompress(streams));
  useSnappyImplementation("native");
  await report("encode+compress: ours, native", () => encodeAndCompress(streams));
  await report("batch+encode+compress (ours, native)", () => encodeAndCompress(batch(corpus)));
  // Only a body Loki answered 413 is decoded (to be split): the cost of that rare path.
  await report("decode (413): protobufjs reflection", () => decodeWithProtobufjsReflection(encoded));
  await report("decode (413): decodePushRequest (ours)", () => decodePushRequest(encoded));
  row("zlib gunzip of the same text", `${(mb(textBytes) / median(gunzipTimes)).toFixed(1)} MB/s (the reference; ratio = gunzip time / variant time)`);
  console.log("");
}

async function main(): Promise<void> {
  for (const corpus of [albCorpus(), cloudwatchCorpus()]) await benchCorpus(corpus);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
