/**
 * Shared measuring helpers for the benchmarks. Absolute speeds on these machines are noisy,
 * so every benchmark also measures the machine's own limit in the same run (Node's zlib
 * gunzip of the same input) and reports the ratio to it.
 */
import { spawn, ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** The benchmarks' seeded generator (a linear congruential one): the same inputs on every run. */
export function seededRandom(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

export function mb(bytes: number): number {
  return bytes / (1024 * 1024);
}

/** Median wall time of `fn` over `runs` runs after one warm-up, in seconds. */
export async function medianSeconds(runs: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export async function gunzipSeconds(gz: Uint8Array, runs: number): Promise<number> {
  return medianSeconds(runs, () => gunzipSync(gz));
}

/**
 * Peak resident set size of this process so far, in MB: the kernel's high-water mark VmHWM.
 * (`process.resourceUsage().maxRSS` is not used: on Linux a spawned child inherits its parent's
 * figure, which overstated a 57 MB child as 146 MB.)
 */
export function peakRssMb(): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/**
 * A Loki push endpoint in a separate process that reads each body and answers 204: the
 * cheapest possible sink, so the benchmark measures our side of the push, not a decoder.
 */
export async function startNullSink(): Promise<{ url: string; stop: () => void }> {
  const child: ChildProcess = spawn(process.execPath, ["-e", `
    const http = require("node:http");
    const server = http.createServer((req, res) => { req.on("data", () => {}); req.on("end", () => { res.statusCode = 204; res.end(); }); });
    server.keepAliveTimeout = 60000;
    server.listen(0, "127.0.0.1", () => process.stdout.write(String(server.address().port) + "\\n"));
    process.stdin.on("end", () => process.exit(0)); process.stdin.resume();
  `], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout?.once("data", (d: Buffer) => resolve(d.toString().trim()));
    child.once("error", reject);
  });
  return { url: `http://127.0.0.1:${port}/loki/api/v1/push`, stop: () => { child.stdin?.end(); child.kill(); } };
}

export function row(name: string, value: string): void {
  console.log(`  ${name.padEnd(34)} ${value}`);
}
