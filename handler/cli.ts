/**
 * Local replay of recorded events through the real handler, without AWS.
 *
 *   npm run replay -- <event.json> [more.json …]   run each recorded event through the handler
 *   npm run replay -- --s3-key <key> <log file>    ship a local log file as if it were the S3
 *                                                  object <key> (typed, labeled and stamped by it)
 *   npm run replay -- --trace <line> [--labels a=b,c=d]
 *                                                  run LOKI_STAGE_CONFIGS on one sample line and
 *                                                  print what each stage did (no handler, no Loki)
 *   npm run demo                                   replay every bundled sample: samples/events
 *                                                  and one log file per S3 format in samples/s3,
 *                                                  then a simulated function's invocations through
 *                                                  the telemetry extension (Lambda emulator)
 *
 * With WRITE_ADDRESS set, entries go to that Loki. Without it, a dry-run sink is started: an
 * in-process Loki push endpoint (the same receiver the tests use, which decodes with its own
 * snappy and protobuf readers) that prints streams, labels, timestamps and lines as Loki would
 * store them. S3 objects are served by a local S3-compatible server (s3rver) started for the
 * run, and announced to the handler with an S3 notification whose event time is the file's
 * modification time. Not part of the Lambda bundle.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { LokiReceiver } from "../tests/support/loki-receiver";
import { LocalS3 } from "../tests/support/s3-server";
import { parseStageConfigs } from "./stages/index";
import { traceStages } from "./stages/trace";
import { encodeNotificationKey } from "./sources/s3-notification";

/** What to replay: a recorded event, or a local log file standing in for an S3 object. */
type Job = { kind: "event"; file: string } | { kind: "s3"; file: string; key: string };

const REPLAY_BUCKET = "replay-logs";
const SAMPLES = resolve(__dirname, "..", "samples");

function usage(): never {
  console.error("usage: npm run replay -- <event.json> [more.json …] [--s3-key <key> <log file> …]\n       npm run replay -- --trace <line> [--labels name=value,…]   (with LOKI_STAGE_CONFIGS set)\n       npm run demo");
  process.exit(2);
}

function parseArgs(argv: string[]): { command: string; jobs: Job[] } {
  const [command, ...rest] = argv;
  if (command !== "replay" && command !== "demo") usage();
  const jobs: Job[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === "--help" || arg === "-h") usage();
    if (arg === "--s3-key") {
      const key = rest[i + 1];
      const file = rest[i + 2];
      if (!key || !file) {
        console.error("--s3-key needs the object key and the local file, e.g. --s3-key AWSLogs/123456789012/elasticloadbalancing/… ./alb.log.gz");
        usage();
      }
      jobs.push({ kind: "s3", key, file: resolve(file) });
      i += 2;
      continue;
    }
    if (arg.startsWith("--")) {
      console.error(`unknown option ${arg}`);
      usage();
    }
    jobs.push({ kind: "event", file: resolve(arg) });
  }
  if (command === "replay" && jobs.length === 0) usage();
  return { command, jobs: command === "demo" ? sampleJobs() : jobs };
}

/** The bundled samples: every recorded event, then each S3 log file under the key in samples/s3/keys.json. */
function sampleJobs(): Job[] {
  const eventsDir = join(SAMPLES, "events");
  const events: Job[] = readdirSync(eventsDir).filter((f) => f.endsWith(".json")).sort().map((f) => ({ kind: "event", file: join(eventsDir, f) }));
  const keys = JSON.parse(readFileSync(join(SAMPLES, "s3", "keys.json"), "utf8")) as Record<string, string>;
  const objects: Job[] = Object.entries(keys).map(([file, key]) => ({ kind: "s3", key, file: join(SAMPLES, "s3", file) }));
  return [...events, ...objects];
}

/** The S3 notification the bucket would send for `key`, as S3 writes it (key form-encoded). */
function s3Notification(key: string, eventTime: Date, size: number) {
  return {
    Records: [{
      eventVersion: "2.1", eventSource: "aws:s3", awsRegion: "us-east-1", eventTime: eventTime.toISOString(), eventName: "ObjectCreated:Put",
      s3: { s3SchemaVersion: "1.0", bucket: { name: REPLAY_BUCKET, arn: `arn:aws:s3:::${REPLAY_BUCKET}` }, object: { key: encodeNotificationKey(key), size } },
    }],
  };
}

/** A fake Lambda context: a request id per event and a generous time budget. */
function contextFor(file: string, budgetMs = 60_000) {
  const end = Date.now() + budgetMs;
  return {
    awsRequestId: `replay-${file.split("/").pop()}`,
    functionName: "lambda-promtail-replay",
    getRemainingTimeInMillis: () => end - Date.now(),
  };
}

function formatTimestamp(sec: number, nsec: number): string {
  const iso = new Date(sec * 1000).toISOString().replace(".000Z", "");
  return `${iso}.${String(nsec).padStart(9, "0")}Z`;
}

function printReceived(receiver: LokiReceiver, fromPush: number): void {
  for (const push of receiver.received.slice(fromPush)) {
    for (const stream of push.streams) {
      console.log(`  stream ${stream.labels}`);
      for (const e of stream.entries) {
        const meta = e.metadata && Object.keys(e.metadata).length > 0 ? `  ${JSON.stringify(e.metadata)}` : "";
        console.log(`    ${formatTimestamp(e.sec, e.nsec)}  ${JSON.stringify(e.line)}${meta}`);
      }
    }
  }
}

/**
 * The telemetry extension as Lambda runs it: the layer built into a scratch directory, started by
 * the local Lambda emulator as a function's extension, two invocations of a simulated function
 * (text log format) and SHUTDOWN, its lines pushed to the dry-run sink.
 */
async function demoExtension(receiver: LokiReceiver): Promise<void> {
  const { buildNodeLayer, EXTENSION_NAME } = await import("../scripts/build-extension");
  const { LambdaEmulator } = await import("../tests/support/lambda-emulator");
  const layer = mkdtempSync(join(tmpdir(), "lambda-promtail-demo-layer-"));
  try {
    buildNodeLayer({ outDir: layer, zipPath: null, snappyBindings: [process.arch === "arm64" ? "arm64" : "x86_64"] });
    console.log("\n== telemetry extension: function \"checkout\" with the layer, LOKI_WRITE_ADDRESS = the dry-run sink");
    const before = receiver.received.length;
    const lambda = await LambdaEmulator.start({
      executable: join(layer, "extensions", EXTENSION_NAME),
      env: { LOKI_WRITE_ADDRESS: receiver.url, LOKI_STRUCTURED_METADATA: "lambda_request_id" },
      functionName: "checkout",
    });
    if (lambda.startFailure) throw new Error(`${lambda.startFailure}\n${lambda.stderr()}`);
    for (const [i, order] of ["A-1001", "A-1002"].entries()) {
      const result = await lambda.invoke({ logs: [`INFO\tprocessing order ${order}\n`, `INFO\torder ${order} charged ${10 + i}.00 EUR\n`], durationMs: 30 });
      console.log(`  invocation ${result.requestId}: extension asked for the next event ${result.postRuntimeMs} ms after runtimeDone`);
    }
    const shutdown = await lambda.shutdown();
    console.log(`  SHUTDOWN: extension exited with code ${shutdown.exitCode} after ${shutdown.durationMs} ms`);
    await lambda.close();
    printReceived(receiver, before);
  } finally {
    rmSync(layer, { recursive: true, force: true });
  }
}

/** `--trace <line> [--labels a=b,…]`: each stage's effect on one line, from LOKI_STAGE_CONFIGS. */
function trace(argv: string[]): void {
  const line = argv[argv.indexOf("--trace") + 1];
  if (line === undefined) usage();
  const labelsAt = argv.indexOf("--labels");
  const labels: Record<string, string> = {};
  if (labelsAt >= 0) {
    for (const pair of (argv[labelsAt + 1] ?? "").split(",").filter((p) => p !== "")) {
      const eq = pair.indexOf("=");
      if (eq <= 0) usage();
      labels[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  const pipeline = parseStageConfigs(process.env.LOKI_STAGE_CONFIGS ?? "", "LOKI_STAGE_CONFIGS");
  if (pipeline === undefined) {
    console.error("LOKI_STAGE_CONFIGS is not set: nothing to trace");
    process.exit(2);
  }
  const now = Date.now();
  const entry = { labels: { ...labels }, extracted: { ...labels }, line, sec: Math.floor(now / 1000), nsec: (now % 1000) * 1e6, metadata: {} };
  console.log(`line:   ${JSON.stringify(line)}\nlabels: ${JSON.stringify(labels)}`);
  for (const step of traceStages(pipeline.stages, entry, { log: quietLog, now: () => now, random: Math.random })) {
    console.log(`${step.stage}${step.changes.length === 0 && step.dropped === undefined ? ": no change" : ""}`);
    for (const change of step.changes) console.log(`    ${change}`);
    if (step.dropped !== undefined) console.log(`    DROPPED (${step.dropped}); later stages do not run`);
  }
  console.log(`result: labels ${JSON.stringify(entry.labels)}, metadata ${JSON.stringify(entry.metadata)}, line ${JSON.stringify(entry.line)}`);
}

const quietLog = { debug() {}, info() {}, warn() {}, error() {} };

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "replay" && argv.includes("--trace")) return trace(argv);
  const { command, jobs } = parseArgs(argv);
  let s3: LocalS3 | undefined;
  if (jobs.some((job) => job.kind === "s3")) {
    s3 = await LocalS3.start([REPLAY_BUCKET]);
    Object.assign(process.env, s3.env());
  }

  let receiver: LokiReceiver | undefined;
  if (!process.env.WRITE_ADDRESS) {
    receiver = new LokiReceiver();
    process.env.WRITE_ADDRESS = await receiver.start();
    console.log(`WRITE_ADDRESS not set: using the dry-run sink at ${process.env.WRITE_ADDRESS}`);
  }
  // Imported after WRITE_ADDRESS is settled: the handler reads its environment at cold start.
  const { handler } = await import("./index");

  let failures = 0;
  for (const job of jobs) {
    console.log(job.kind === "s3" ? `\n== ${job.file} as s3://${REPLAY_BUCKET}/${job.key}` : `\n== ${job.file}`);
    const before = receiver?.received.length ?? 0;
    try {
      let event: unknown;
      if (job.kind === "s3" && s3) {
        const body = readFileSync(job.file);
        await s3.put(REPLAY_BUCKET, job.key, body);
        event = s3Notification(job.key, statSync(job.file).mtime, body.length);
      } else {
        event = JSON.parse(readFileSync(job.file, "utf8"));
      }
      const result = await handler(event, contextFor(basename(job.file)));
      if (receiver) printReceived(receiver, before);
      if (result && result.batchItemFailures.length > 0) {
        failures++;
        console.log(`  batchItemFailures: ${JSON.stringify(result.batchItemFailures)}`);
      }
    } catch (err) {
      failures++;
      console.log(`  invocation failed: ${(err as Error).message}`);
    }
  }

  if (receiver && command === "demo") {
    try {
      await demoExtension(receiver);
    } catch (err) {
      failures++;
      console.log(`  extension demo failed: ${(err as Error).message}`);
    }
  }

  if (receiver) {
    const entries = receiver.received.reduce((n, p) => n + p.streams.reduce((m, s) => m + s.entries.length, 0), 0);
    const streams = new Set(receiver.received.flatMap((p) => p.streams.map((s) => s.labels))).size;
    console.log(`\nsummary: ${jobs.length} events, ${receiver.received.length} pushes, ${streams} streams, ${entries} entries, ${failures} failed`);
    await receiver.stop();
  }
  await s3?.stop();
  process.exitCode = failures > 0 && command === "replay" ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
