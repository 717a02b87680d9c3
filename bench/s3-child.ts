/**
 * The measured side of bench/s3.ts, bundled by esbuild and run in its own process so that its
 * peak RSS is the Lambda's (the bundle, no ts-node, no S3 server, no Loki receiver).
 *
 * Input (argv[2], JSON): the object to read, where its gzip copy is on disk (for the gunzip
 * baseline), and the run count. Environment: WRITE_ADDRESS of the null sink, AWS_ENDPOINT_URL_S3
 * and credentials of the local S3 server. Output: one JSON line on stdout.
 */
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createGunzip, gunzipSync } from "node:zlib";
import { handler } from "../handler/index";
import { parseShipperConfig, ShipperConfig } from "../handler/config";
import { InvocationDeadline } from "../handler/deadline";
import { LokiClient } from "../handler/loki/client";
import { snappyCompressor } from "../handler/loki/snappy";
import { objectGroups } from "../handler/sources/s3-log-object";
import { BoundedBody, type ObjectOpener } from "../handler/sources/s3-object";
import { boundedRequestHandler } from "../handler/aws-http";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { LogEntry, SourceRecord } from "../handler/types";
import { Push, pushAll, shipOffline, silentLog } from "./offline";
import { peakRssMb } from "./support";

interface Args {
  bucket: string;
  key: string;
  gzPath: string;
  runs: number;
}

const args = JSON.parse(process.argv[2]) as Args;

function s3Event() {
  return {
    Records: [{
      eventVersion: "2.1", eventSource: "aws:s3", awsRegion: "us-east-1", eventTime: "2024-06-01T12:05:00.000Z", eventName: "ObjectCreated:Put",
      s3: { s3SchemaVersion: "1.0", bucket: { name: args.bucket, arn: `arn:aws:s3:::${args.bucket}` }, object: { key: args.key } },
    }],
  };
}

/**
 * The handler's work on the object without the network; `keep` receives the pushes (bodies and
 * entry counts: the object's lines are not held in memory).
 */
function shipWithoutNetwork(config: ShipperConfig, keep?: Push[]): Promise<void> {
  const ref = { bucket: args.bucket, key: args.key, region: "us-east-1", eventTime: "2024-06-01T12:05:00.000Z" };
  const record: SourceRecord = { describe: `s3://${args.bucket}/${args.key}`, groups: () => objectGroups(ref, { want: new Set(config.structuredMetadata), log: silentLog, deadline: InvocationDeadline.in(900_000) }) };
  return shipOffline([record], config, keep && ((push) => keep.push(push)));
}

/** GetObject -> gunzip -> lines -> ALB parse, entries counted and not shipped; `open` replaces the handler's GetObject. */
async function parseObject(open?: ObjectOpener): Promise<number> {
  const ref = { bucket: args.bucket, key: args.key, region: "us-east-1", eventTime: "2024-06-01T12:05:00.000Z" };
  let entries = 0;
  for await (const group of objectGroups(ref, { want: new Set(), log: silentLog, deadline: InvocationDeadline.in(900_000), ...(open ? { open } : {}) })) {
    for await (const batch of group.entries as AsyncIterable<LogEntry[]>) entries += batch.length;
  }
  return entries;
}

const CHUNK = new Uint8Array(16 * 1024);

async function* memoryChunks(n: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < n; i++) yield CHUNK;
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _chunk of body) void _chunk;
}

let plainClient: S3Client | undefined;

/**
 * The handler's GetObject (same client settings and request handler) with the body read as the
 * SDK hands it: no idle bound. Only for measuring what the bound costs.
 */
const openWithoutIdleBound: ObjectOpener = async (location) => {
  plainClient ??= new S3Client({ region: "us-east-1", endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, requestHandler: boundedRequestHandler() });
  const output = await plainClient.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
  // The same iterator BoundedBody wraps, handed out as is.
  const reads = (output.Body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  return { body: { [Symbol.asyncIterator]: () => reads }, lastModified: output.LastModified };
};

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const startRss = process.memoryUsage().rss;

  // 1. The S3 side alone: GetObject -> gunzip -> lines -> ALB parse (entries counted, not
  //    shipped). First, so that its peak RSS is its own.
  let entries = 0;
  const parseOnly: number[] = [];
  for (let i = 0; i < args.runs; i++) parseOnly.push(await seconds(async () => (entries = await parseObject())));
  const peakRssParse = peakRssMb() * 1024 * 1024;

  // 2. The whole path through the real handler: GetObject -> gunzip -> lines -> ALB parse ->
  //    labels -> batch -> encode -> snappy -> push.
  const context = { awsRequestId: "bench", getRemainingTimeInMillis: () => 900_000 };
  const full: number[] = [];
  for (let i = 0; i < args.runs; i++) {
    full.push(await seconds(async () => {
      const response = await handler(s3Event(), context);
      if (response !== undefined) throw new Error(`unexpected response ${JSON.stringify(response)}`);
    }));
  }
  const peakRssFull = peakRssMb() * 1024 * 1024;

  // 3. Gunzip under this process's heap flags, after the RSS figures were taken: printed for
  //    comparison only; the ratios are taken against gunzip in a plain process (bench/s3.ts).
  const gz = await readFile(args.gzPath);
  const gunzipSyncTimes: number[] = [];
  const gunzipStreamTimes: number[] = [];
  for (let i = 0; i < args.runs; i++) {
    gunzipSyncTimes.push(await seconds(async () => gunzipSync(gz)));
    gunzipStreamTimes.push(await seconds(async () => {
      for await (const _chunk of createReadStream(args.gzPath).pipe(createGunzip({ chunkSize: 64 * 1024 }))) void _chunk;
    }));
  }

  // 4. Two parts of the full path on their own, after the RSS figures: the handler's work with
  //    the push replaced by a no-op, and the pushes alone (the same bodies, through the same
  //    client, to the same sink, as many at once as the handler sends).
  const config = parseShipperConfig(process.env);
  const pushes: Push[] = [];
  const noNetwork: number[] = [];
  for (let i = 0; i < args.runs; i++) noNetwork.push(await seconds(() => shipWithoutNetwork(config, i === 0 ? pushes : undefined)));
  const client = new LokiClient({ url: config.writeAddress, log: silentLog });
  const pushesOnly: number[] = [];
  for (let i = 0; i < args.runs; i++) pushesOnly.push(await seconds(() => pushAll(client, pushes, config.pushConcurrency)));
  client.close();

  // 5. The cost of the body-idle bound (BoundedBody: a timer armed and a race per read): the S3
  //    side alone, once with the handler's GetObject and once with the same request whose body
  //    is read as the SDK hands it, alternating, so both see the same machine; more runs than
  //    the others, because the difference is small against the noise.
  const idleRuns = Math.max(5, args.runs * 2 + 1);
  const bounded: number[] = [];
  const unbounded: number[] = [];
  await parseObject(openWithoutIdleBound); // warm-up: the second client's connection
  for (let i = 0; i < idleRuns; i++) {
    bounded.push(await seconds(() => parseObject()));
    unbounded.push(await seconds(() => parseObject(openWithoutIdleBound)));
  }
  let reads = 0;
  for await (const _chunk of (await openWithoutIdleBound({ bucket: args.bucket, key: args.key, region: "us-east-1" }, InvocationDeadline.in(900_000))).body) reads++;
  // The same per read, where nothing else varies: BoundedBody over chunks already in memory
  // against the bare iterator (S3 over TLS hands out reads of about 16 KB, more than s3rver's 64 KB).
  const perRead = { bounded: [] as number[], bare: [] as number[], reads: 50_000 };
  for (let i = 0; i < idleRuns; i++) {
    perRead.bounded.push(await seconds(() => drain(new BoundedBody(memoryChunks(perRead.reads), InvocationDeadline.in(900_000).limit("bench"), () => 5000, "bench"))));
    perRead.bare.push(await seconds(() => drain(memoryChunks(perRead.reads))));
  }

  process.stdout.write(JSON.stringify({
    fullSeconds: median(full),
    parseOnlySeconds: median(parseOnly),
    gunzipSyncSeconds: median(gunzipSyncTimes),
    gunzipStreamSeconds: median(gunzipStreamTimes),
    noNetworkSeconds: median(noNetwork),
    pushesOnlySeconds: median(pushesOnly),
    pushes: pushes.length,
    entries,
    startRss,
    peakRssParse,
    peakRssFull,
    snappy: snappyCompressor().implementation,
    idleTimer: {
      boundedSeconds: median(bounded), unboundedSeconds: median(unbounded), runs: idleRuns, reads,
      perReadMicros: ((median(perRead.bounded) - median(perRead.bare)) / perRead.reads) * 1e6,
    },
  }) + "\n");
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
