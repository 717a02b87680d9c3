/**
 * Profiles the CloudWatch path as bench/cloudwatch.ts runs it (the same event, the real handler,
 * the null sink in its own process, metrics on): after warm-up invocations, `N` (default 30) more
 * are run under V8's CPU profiler, and the profile is written to `PROFILE` (default
 * cloudwatch.cpuprofile), for Chrome DevTools or `npx speedscope`. Prints the CPU and wall time
 * per invocation. With `STAGES=1`, it profiles instead what the benchmark's stage ratio times:
 * the path without the network (shipCloudWatchOffline) with the benchmark's LOKI_STAGE_CONFIGS
 * (`STAGES=0`: the same without stages). Not part of `npm run bench`:
 *   TS_NODE_TRANSPILE_ONLY=true node --expose-gc -r ts-node/register bench/cloudwatch-profile.ts
 * `npx ts-node bench/cpuprofile-summary.ts cloudwatch.cpuprofile` sums self and inclusive time per function.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { BENCH_STAGES, makeCloudWatchEvent } from "./cloudwatch-event";
import { shipCloudWatchOffline } from "./offline";
import { captureStdout, startNullSink } from "./support";

async function main(): Promise<void> {
  const { event } = makeCloudWatchEvent();
  const sink = await startNullSink();
  process.env.WRITE_ADDRESS = sink.url;
  process.env.LOG_LEVEL = "error";
  const { handler } = await import("../handler/index");
  const context = { getRemainingTimeInMillis: () => 300_000 };
  const offline = process.env.STAGES !== undefined;
  if (process.env.STAGES === "1") process.env.LOKI_STAGE_CONFIGS = JSON.stringify(BENCH_STAGES);
  const invoke = () => (offline ? shipCloudWatchOffline(event) : handler(event, context));
  const runs = Number(process.env.N ?? 30);
  const stdout = captureStdout();
  for (let i = 0; i < 5; i++) await invoke();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await invoke();
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6 / runs;
  const used = process.cpuUsage(cpu);
  const { profile } = await session.post("Profiler.stop");
  stdout.restore();
  sink.stop();
  writeFileSync(process.env.PROFILE ?? "cloudwatch.cpuprofile", JSON.stringify(profile));
  console.log(`per invocation: ${wallMs.toFixed(1)} ms wall, ${((used.user + used.system) / 1000 / runs).toFixed(1)} ms CPU (${runs} invocations)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
