/**
 * Shared measuring helpers for the benchmarks. Absolute speeds on these machines are noisy,
 * so every benchmark also measures the machine's own limit in the same run (Node's zlib
 * gunzip of the same input) and reports the ratio to it.
 */
import { execFile, spawn, ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

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

/**
 * Median CPU time of `fn` (this process, all its threads: the garbage collector's helpers
 * included) over `runs` runs after one warm-up, in seconds. On a shared, loaded machine the wall
 * time of a run also counts the time other processes held the cores; its CPU time does not, so a
 * ratio of two CPU times measured in one process stays meaningful there.
 */
export async function medianCpuSeconds(runs: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Medians, in seconds, of one function's wall and CPU time (see medianSeconds, medianCpuSeconds). */
export interface WallAndCpu {
  wall: number;
  cpu: number;
}

/**
 * Wall and CPU medians of two functions run in alternation (a, b, a, b, ... after one warm-up
 * of each), in seconds. On a shared machine whose load drifts, their ratio is then taken under
 * the same load; two blocks of runs one after the other each saw their own (the stages ratio
 * measured that way ranged from 0.26 to 0.54 for the same code within minutes).
 */
export async function alternatingMedians(runs: number, a: () => unknown | Promise<unknown>, b: () => unknown | Promise<unknown>): Promise<{ a: WallAndCpu; b: WallAndCpu }> {
  await a();
  await b();
  const times = { a: { wall: [] as number[], cpu: [] as number[] }, b: { wall: [] as number[], cpu: [] as number[] } };
  const time = async (fn: () => unknown | Promise<unknown>, into: { wall: number[]; cpu: number[] }) => {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await fn();
    into.wall.push(Number(process.hrtime.bigint() - start) / 1e9);
    const used = process.cpuUsage(cpu);
    into.cpu.push((used.user + used.system) / 1e6);
  };
  for (let i = 0; i < runs; i++) {
    await time(a, times.a);
    await time(b, times.b);
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return { a: { wall: median(times.a.wall), cpu: median(times.a.cpu) }, b: { wall: median(times.b.wall), cpu: median(times.b.cpu) } };
}

/** Medians, in seconds, of Node's zlib gunzip of one file: all at once and as a stream. */
export interface GunzipReference {
  syncSeconds: number;
  streamSeconds: number;
  /** CPU time of the all-at-once gunzip: the reference of ratios taken by CPU time, which a loaded machine distorts less. */
  syncCpuSeconds: number;
  /** The faster of the two: the machine's limit the ratios are taken against. */
  seconds: number;
}

/**
 * The machine's own limit, measured in a plain `node` (default flags, nothing else loaded): the
 * reference every ratio is taken against. Not measured inside a process running under the heap
 * flags of a 128 MB Lambda, where `gunzipSync` of a 100 MB object ran at about 190 MB/s against
 * about 300 MB/s in a plain process, which flattered the ratios.
 */
export function plainGunzipReference(gzPath: string, runs: number): Promise<GunzipReference> {
  const script = `
    const { createReadStream, readFileSync } = require("node:fs");
    const { createGunzip, gunzipSync } = require("node:zlib");
    const [path, runs] = [process.argv[1], Number(process.argv[2])];
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const time = async (fn) => { const t = process.hrtime.bigint(); await fn(); return Number(process.hrtime.bigint() - t) / 1e9; };
    const cpuTime = (fn) => { const c = process.cpuUsage(); fn(); const u = process.cpuUsage(c); return (u.user + u.system) / 1e6; };
    (async () => {
      const gz = readFileSync(path);
      const sync = [], stream = [], syncCpu = [];
      gunzipSync(gz);
      for (let i = 0; i < runs; i++) {
        sync.push(await time(async () => gunzipSync(gz)));
        stream.push(await time(async () => { for await (const c of createReadStream(path).pipe(createGunzip({ chunkSize: 64 * 1024 }))) void c; }));
      }
      // CPU times are cheap to take and the ratios taken by CPU time hang on this one: more of them.
      for (let i = 0; i < 3 * runs; i++) syncCpu.push(cpuTime(() => gunzipSync(gz)));
      process.stdout.write(JSON.stringify({ syncSeconds: median(sync), streamSeconds: median(stream), syncCpuSeconds: median(syncCpu) }));
    })();
  `;
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, ["-e", script, gzPath, String(runs)], { env: {} }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      const { syncSeconds, streamSeconds, syncCpuSeconds } = JSON.parse(stdout) as { syncSeconds: number; streamSeconds: number; syncCpuSeconds: number };
      resolvePromise({ syncSeconds, streamSeconds, syncCpuSeconds, seconds: Math.min(syncSeconds, streamSeconds) });
    });
  });
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

/**
 * Takes over `process.stdout` until `restore()`: the lines the measured code prints (the
 * function's embedded-metric-format line, one per invocation) are counted instead of shown, so
 * the metrics keep costing what they cost in Lambda without filling the benchmark's output.
 */
export function captureStdout(): { lines: () => number; restore: () => void } {
  const write = process.stdout.write;
  let lines = 0;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
    const done = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
    if (done) process.nextTick(done);
    return true;
  }) as typeof process.stdout.write;
  return { lines: () => lines, restore: () => { process.stdout.write = write; } };
}
