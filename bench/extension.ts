/**
 * The Telemetry API extension (dist/extension, built by npm run build) under the local Lambda
 * emulator, pushing to a null sink in another process:
 *  - init time (spawn to the first /event/next, as Lambda's initReport counts it), per layer;
 *  - post-runtime time per invocation (platform.runtimeDone until the extension asks for the
 *    next event, what Lambda bills as PostRuntimeExtensionsDuration), p50/p99, in both regimes;
 *  - records per second through the listener to the sink, and the extension's peak RSS.
 * The standalone (single executable) layer is measured too when it was built
 * (npm run build:extension-standalone).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import * as http from "node:http";
import { resolve } from "node:path";
import { LambdaEmulator } from "../tests/support/lambda-emulator";
import { row, startNullSink } from "./support";

const ROOT = resolve(__dirname, "..");
const NODE_LAYER = resolve(ROOT, "dist", "extension", "extensions", "lambda-promtail");
const ARCH = process.arch === "arm64" ? "arm64" : "x86_64";
const STANDALONE = resolve(ROOT, "dist", "extension-standalone", ARCH, "extensions", "lambda-promtail");

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function vmHwmMb(pid: number | undefined): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}

function initMs(lambda: LambdaEmulator): number {
  const report = lambda.telemetry().find((e) => e.type === "platform.initReport");
  return (report?.record as { metrics: { durationMs: number } }).metrics.durationMs;
}

async function initTimes(executable: string, url: string, runs: number): Promise<{ initMs: number; rssMb: number }> {
  const inits: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const lambda = await LambdaEmulator.start({ executable, env: { LOKI_WRITE_ADDRESS: url } });
    inits.push(initMs(lambda));
    await lambda.invoke({ logs: ["one line"] });
    rss.push(vmHwmMb(lambda.pid));
    await lambda.shutdown();
    await lambda.close();
  }
  return { initMs: percentile(inits, 50), rssMb: percentile(rss, 50) };
}

/** Post-runtime times of `count` invocations of 5 lines each, back to back. */
async function postRuntime(executable: string, url: string, strategy: string, count: number, gapMs: number): Promise<{ times: number[]; background: number }> {
  const lambda = await LambdaEmulator.start({ executable, env: { LOKI_WRITE_ADDRESS: url, LOKI_FLUSH_STRATEGY: strategy } });
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const logs = Array.from({ length: 5 }, (_, j) => `invocation ${i} line ${j}: ${"x".repeat(80)}`);
    times.push((await lambda.invoke({ logs, durationMs: 5 })).postRuntimeMs);
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  await lambda.shutdown();
  const summary = lambda.stdout().split("\n").find((l) => l.includes('"extension summary"'));
  await lambda.close();
  const background = summary ? (JSON.parse(summary) as { backgroundInvocations: number }).backgroundInvocations : 0;
  // The first invocations decide the regime; report the steady state.
  return { times: times.slice(10), background };
}

/**
 * Records per second through the listener: telemetry POSTs of 1,000 events (as Lambda's default
 * buffering sends them), one in flight at a time, each round followed by an invocation whose end
 * pushes what the listener took in.
 */
async function throughput(executable: string, url: string): Promise<{ recordsPerSecond: number; rssMb: number; delivered: number; sent: number }> {
  const lambda = await LambdaEmulator.start({ executable, env: { LOKI_WRITE_ADDRESS: url, LOKI_TELEMETRY_TYPES: "function", LOKI_FLUSH_STRATEGY: "end-of-invocation" }, freeze: false });
  const uri = (lambda.subscription as { destination: { URI: string } }).destination.URI;
  const line = "2024-01-01T00:00:00.000Z\t6d68ca91-49c9-448d-89b8-7ca3e6dc66aa\tINFO\t" + "request handled, status=200 path=/orders/12345 duration_ms=12 ".repeat(2);
  const base = Date.parse("2024-01-01T00:00:00.000Z");
  const rounds = 20;
  const postsPerRound = 10;
  let sent = 0;
  const bodies: string[] = [];
  for (let p = 0; p < rounds * postsPerRound; p++) {
    const events = Array.from({ length: 1000 }, (_, i) => ({ time: new Date(base + (p * 1000 + i) * 3).toISOString(), type: "function", record: `${line}${p}-${i}\n` }));
    bodies.push(JSON.stringify(events));
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const post = (body: string) =>
    new Promise<void>((resolvePost, reject) => {
      const u = new URL(uri);
      const req = http.request({ host: u.hostname, port: u.port, method: "POST", path: "/", agent, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolvePost() : reject(new Error(`listener answered ${res.statusCode}`))));
      });
      req.on("error", reject);
      req.end(body);
    });
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (let p = 0; p < postsPerRound; p++) {
      await post(bodies[r * postsPerRound + p]);
      sent += 1000;
    }
    await lambda.invoke({ logs: [] });
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rssMb = vmHwmMb(lambda.pid);
  await lambda.shutdown();
  const summary = lambda.stdout().split("\n").find((l) => l.includes('"extension summary"'));
  await lambda.close();
  agent.destroy();
  const delivered = summary ? (JSON.parse(summary) as { delivered: number }).delivered : 0;
  if (process.env.BENCH_EXTENSION_DEBUG) console.log(summary, lambda.stderr().slice(-3000));
  return { recordsPerSecond: sent / seconds, rssMb, delivered, sent };
}

async function main(): Promise<void> {
  if (!existsSync(NODE_LAYER)) throw new Error(`${NODE_LAYER} is missing: run npm run build first`);
  const sink = await startNullSink();
  try {
    console.log("Telemetry extension under the Lambda emulator (null sink in another process)");
    const layers: [string, string][] = [["layer for Node.js functions", NODE_LAYER]];
    if (existsSync(STANDALONE)) layers.push([`standalone ${ARCH} layer`, STANDALONE]);
    if (process.env.BENCH_EXTENSION_ONLY === "throughput") layers.length = 0;
    // The machine's floor in the same run: a bare node process start.
    const floor = Array.from({ length: 5 }, () => {
      const t0 = process.hrtime.bigint();
      execFileSync(process.execPath, ["-e", "0"]);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    });
    if (layers.length > 0) row("node -e 0 (floor)", `${percentile(floor, 50).toFixed(0)} ms (median of 5)`);
    for (const [name, executable] of layers) {
      const { initMs: init, rssMb } = await initTimes(executable, sink.url, 5);
      const size = name.startsWith("standalone") ? statSync(executable).size : statSync(resolve(ROOT, "dist", "extension", "lambda-promtail", "extension.js")).size;
      row(`${name}: init`, `${init.toFixed(0)} ms (median of 5; spawn to first /event/next)`);
      row(`${name}: peak RSS`, `${rssMb.toFixed(1)} MB after one invocation (${(size / 1024 / 1024).toFixed(1)} MB ${name.startsWith("standalone") ? "executable" : "bundle"})`);
    }
    if (process.env.BENCH_EXTENSION_ONLY !== "throughput") {
    const end = await postRuntime(NODE_LAYER, sink.url, "end-of-invocation", 110, 0);
    row("post-runtime, end-of-invocation", `p50 ${percentile(end.times, 50)} ms, p99 ${percentile(end.times, 99)} ms (${end.times.length} invocations of 5 lines)`);
    const busy = await postRuntime(NODE_LAYER, sink.url, "auto", 110, 0);
    row("post-runtime, auto while busy", `p50 ${percentile(busy.times, 50)} ms, p99 ${percentile(busy.times, 99)} ms (${busy.background} of 110 in the background)`);
    }
    const t = await throughput(NODE_LAYER, sink.url);
    row("records through the listener", `${Math.round(t.recordsPerSecond)} records/s (${t.delivered} of ${t.sent} delivered), peak RSS ${t.rssMb.toFixed(1)} MB`);
  } finally {
    sink.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
