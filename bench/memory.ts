/**
 * Peak RSS of the largest events Lambda delivers, through the real handler, in a process run as
 * a 128 MB function runs it (the bundle, under the runtime's heap limits; see
 * tests/support/lambda-heap.ts): a 1 MB CloudWatch Logs subscription event (Lambda's
 * asynchronous payload limit), a 6 MB Kinesis batch (its synchronous payload limit) of 1 MiB
 * records (Kinesis' record limit), and both again with payloads that inflate to just under
 * MAX_DECOMPRESSED_SIZE (16 MB). The measured process parses the event as the runtime does, lets
 * go of its text and resets the kernel's peak mark before calling the handler: it holds no copy of
 * its input that a Lambda would not. Target: peak RSS < 110 MB (printed as met or not met).
 *
 *   npx ts-node bench/memory.ts
 *   BENCH_CHILD_FLAGS="--trace-gc" BENCH_ONLY=Kinesis npx ts-node bench/memory.ts   # extra flags for the measured process, one scenario
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_MAX_DECOMPRESSED_SIZE } from "../handler/config";
import { buildHandlerChild, LAMBDA_MEMORY_MB, LAMBDA_NODE_FLAGS, runHandlerChild } from "../tests/support/lambda-heap";
import { BuiltPayload, cloudWatchEventOfSize, kinesisBatchOfSize, realisticMessages, repetitiveMessages } from "../tests/support/large-events";
import { mb, row, startNullSink } from "./support";

const TARGET_MB = 110;

interface Scenario {
  name: string;
  event: unknown;
  payloads: BuiltPayload[];
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

async function main(): Promise<void> {
  const flags = (process.env.BENCH_CHILD_FLAGS ?? "").split(" ").filter((flag) => flag !== "");
  const dir = await mkdtemp(join(tmpdir(), "bench-memory-"));
  const sink = await startNullSink();
  try {
    const script = await buildHandlerChild(dir, flags.length === 0);
    console.log(`Peak RSS of the largest events through the handler (bundle, node ${LAMBDA_NODE_FLAGS.join(" ")}: the flags and heap limits of a ${LAMBDA_MEMORY_MB} MB Lambda; push to a local sink)`);
    for (const scenario of scenarios().filter((s) => s.name.includes(process.env.BENCH_ONLY ?? ""))) {
      const path = join(dir, "event.json");
      await writeFile(path, JSON.stringify(scenario.event));
      const run = await runHandlerChild(script, path, { WRITE_ADDRESS: sink.url, LOG_LEVEL: "error", METRICS: "false" }, flags);
      if (run.stderr) process.stderr.write(run.stderr);
      if (run.response !== null && JSON.stringify(run.response) !== '{"batchItemFailures":[]}') throw new Error(`${scenario.name}: unexpected response ${JSON.stringify(run.response)}`);
      const peak = mb(run.peakRss);
      row(scenario.name, describePayloads(scenario.event, scenario.payloads));
      row("", `peak RSS ${peak.toFixed(0)} MB (target < ${TARGET_MB} MB: ${peak < TARGET_MB ? "met" : "NOT met"}), ${mb(run.startRss).toFixed(0)} MB with the event parsed, before the handler; ${run.seconds.toFixed(2)} s`);
    }
  } finally {
    sink.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
