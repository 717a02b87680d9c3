/**
 * Peak RSS of the largest events Lambda delivers, through the real handler, in a process run as
 * a 128 MB function runs it (the bundle, under the runtime's heap limits; see
 * tests/support/lambda-heap.ts): a 1 MB CloudWatch Logs subscription event (Lambda's
 * asynchronous payload limit), a 6 MB Kinesis batch (its synchronous payload limit) of 1 MiB
 * records (Kinesis' record limit), and both again with payloads that inflate to just under
 * MAX_DECOMPRESSED_SIZE (16 MB); and a 300 MB S3 object without a newline read with
 * MAX_LINE_SIZE_ACTION=split (its line is shipped in pieces as it is read). The measured process parses the event as the runtime does, lets
 * go of its text and resets the kernel's peak mark before calling the handler: it holds no copy of
 * its input that a Lambda would not. Target: peak RSS < 110 MB (the S3 object: < 128 MB, as the S3
 * benchmark's), printed as met or not met.
 *
 *   npx ts-node bench/memory.ts
 *   BENCH_CHILD_FLAGS="--trace-gc" BENCH_ONLY=Kinesis npx ts-node bench/memory.ts   # extra flags for the measured process, one scenario
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_MAX_DECOMPRESSED_SIZE } from "../handler/config";
import { DEFAULT_MAX_LINE_SIZE } from "../handler/line-size";
import { buildHandlerChild, handlerChildDir, LAMBDA_MEMORY_MB, LAMBDA_NODE_FLAGS, runHandlerChild } from "../tests/support/lambda-heap";
import { BuiltPayload, cloudWatchEventOfSize, kinesisBatchOfSize, newlineFreeObject, realisticMessages, repetitiveMessages } from "../tests/support/large-events";
import { s3Notification, s3Record } from "../tests/support/s3-events";
import { LocalS3 } from "../tests/support/s3-server";
import { runBench, withBenchServers } from "./servers";
import { mb, row } from "./support";

const TARGET_MB = 110;

interface Scenario {
  name: string;
  event: unknown;
  payloads: BuiltPayload[];
  /** What the event is, when not payloads inflated whole. */
  description?: string;
  env?: Record<string, string>;
  /** The peak RSS target when not TARGET_MB (S3 objects: the S3 benchmark's 128 MB). */
  targetMb?: number;
}

function describePayloads(event: unknown, payloads: BuiltPayload[]): string {
  const sum = (f: (p: BuiltPayload) => number) => payloads.reduce((n, p) => n + f(p), 0);
  const largest = Math.max(...payloads.map((p) => p.inflatedBytes));
  return `${mb(JSON.stringify(event).length).toFixed(2)} MB event, ${payloads.length} payload(s) of ${mb(sum((p) => p.gz.length)).toFixed(2)} MB gzip `
    + `inflating to ${mb(sum((p) => p.inflatedBytes)).toFixed(1)} MB (largest ${mb(largest).toFixed(2)} MB), ${sum((p) => p.events).toLocaleString("en")} lines`;
}

function scenarios(): Scenario[] {
  const justUnder = DEFAULT_MAX_DECOMPRESSED_SIZE - 64 * 1024;
  const cw = cloudWatchEventOfSize(realisticMessages());
  const cw16 = cloudWatchEventOfSize(repetitiveMessages(), undefined, justUnder);
  const kinesis = kinesisBatchOfSize(realisticMessages());
  const kinesis16 = kinesisBatchOfSize(repetitiveMessages(), { maxInflatedBytes: justUnder });
  return [
    { name: "CloudWatch event, 1 MB", event: cw.event, payloads: [cw.payload] },
    { name: "Kinesis batch, 6 MB", event: kinesis.event, payloads: kinesis.payloads },
    { name: "CloudWatch event inflating to ~16 MB", event: cw16.event, payloads: [cw16.payload] },
    { name: "Kinesis 6 MB, records inflating to ~16 MB", event: kinesis16.event, payloads: kinesis16.payloads },
  ];
}

/** MAX_LINE_SIZE_ACTION=split on a 300 MB S3 object without a newline, from the local S3 server. */
async function newlineFreeScenario(s3: LocalS3): Promise<Scenario> {
  const object = await newlineFreeObject(300 * 1024 * 1024);
  await s3.put(S3_BUCKET, S3_KEY, object.gz);
  return {
    name: "S3 object of 300 MB without a newline, MAX_LINE_SIZE_ACTION=split",
    description: `${mb(object.gz.length).toFixed(2)} MB gzip, ${mb(object.bytes).toFixed(0)} MB in one line, shipped as ~${Math.ceil(object.bytes / DEFAULT_MAX_LINE_SIZE)} entries of 256 KB`,
    event: s3Notification(s3Record(S3_BUCKET, S3_KEY)),
    payloads: [],
    env: { ...s3.env(), MAX_LINE_SIZE_ACTION: "split" },
    targetMb: 128,
  };
}

const S3_BUCKET = "bench-newline-free";
const S3_KEY = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/06/01/123456789012_elasticloadbalancing_us-east-1_app.newline-free.50dc6c495c0c9188_20240601T1200Z_10.0.0.1_2et2e1mx.log.gz";

async function main(): Promise<void> {
  const flags = (process.env.BENCH_CHILD_FLAGS ?? "").split(" ").filter((flag) => flag !== "");
  const dir = await handlerChildDir();
  await withBenchServers([S3_BUCKET], dir, async ({ s3, sink }) => {
    const script = await buildHandlerChild(dir, flags.length === 0);
    console.log(`Peak RSS of the largest events through the handler (bundle, node ${LAMBDA_NODE_FLAGS.join(" ")}: the flags and heap limits of a ${LAMBDA_MEMORY_MB} MB Lambda; push to a local sink)`);
    const only = (s: Scenario) => s.name.includes(process.env.BENCH_ONLY ?? "");
    for (const scenario of [...scenarios().filter(only), ...[await newlineFreeScenario(s3)].filter(only)]) {
      const path = join(dir, "event.json");
      await writeFile(path, JSON.stringify(scenario.event));
      const run = await runHandlerChild(script, path, { WRITE_ADDRESS: sink.url, LOG_LEVEL: "error", METRICS: "false", ...scenario.env }, flags);
      if (run.stderr) process.stderr.write(run.stderr);
      if (run.response !== null && JSON.stringify(run.response) !== '{"batchItemFailures":[]}') throw new Error(`${scenario.name}: unexpected response ${JSON.stringify(run.response)}`);
      const peak = mb(run.peakRss);
      row(scenario.name, scenario.description ?? describePayloads(scenario.event, scenario.payloads));
      const target = scenario.targetMb ?? TARGET_MB;
      row("", `peak RSS ${peak.toFixed(0)} MB (target < ${target} MB: ${peak < target ? "met" : "NOT met"}), ${mb(run.startRss).toFixed(0)} MB with the event parsed, before the handler; ${run.seconds.toFixed(2)} s`);
    }
  });
}

runBench(main);
