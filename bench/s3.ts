/**
 * S3 path: a 100 MB (uncompressed) gzip ALB access-log object served by a local S3 server
 * (s3rver) and read through the real handler — GetObject stream, gunzip, line split, ALB parse,
 * labels, batching, encoding, snappy, push to a local null sink.
 *
 * The measured code runs in its own process, bundled by esbuild like the Lambda (bench/s3-child.ts),
 * so its peak RSS is not inflated by ts-node, the S3 server or the sink, and with the V8 heap
 * limits the Lambda runtime gives a 128 MB function (LAMBDA_HEAP_FLAGS). Reports MB/s of log
 * text, lines/s, peak RSS and the ratio to zlib gunzip of the same object in a plain `node`
 * (the machine's limit, not slowed by the heap flags). Targets: ratio >= 0.25, peak RSS < 128 MB.
 *
 *   npx ts-node bench/s3.ts [--mb 100] [--runs 3]
 */
import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { LAMBDA_HEAP_FLAGS, LAMBDA_MEMORY_MB } from "../tests/support/lambda-heap";
import { runBench, withBenchServers } from "./servers";
import { mb, plainGunzipReference, row, seededRandom } from "./support";

const BUCKET = "bench-logs";
const KEY = "alb/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/06/01/123456789012_elasticloadbalancing_us-east-1_app.shop-frontend.50dc6c495c0c9188_20240601T1205Z_10.0.12.34_5x7k2p9q.log.gz";

interface ChildResult {
  fullSeconds: number;
  parseOnlySeconds: number;
  gunzipSyncSeconds: number;
  gunzipStreamSeconds: number;
  noNetworkSeconds: number;
  pushesOnlySeconds: number;
  pushes: number;
  entries: number;
  startRss: number;
  peakRssParse: number;
  peakRssFull: number;
  snappy: string;
  /** The S3 side alone with and without the body-idle bound (BoundedBody), same object, alternating runs. */
  idleTimer: { boundedSeconds: number; unboundedSeconds: number; runs: number; reads: number; perReadMicros: number };
}

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

/** Realistic ALB lines: varied clients, paths, agents, statuses, trace ids; time moves forward. */
function albLog(targetBytes: number): { text: Buffer; lines: number } {
  const rnd = seededRandom(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const hex = (n: number) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(rnd() * 16)]).join("");
  const types = ["https", "https", "https", "h2", "h2", "http", "wss"];
  const paths = ["/", "/products", "/products/{id}", "/cart", "/checkout", "/api/v1/search?q={q}", "/static/js/app.{h}.js", "/static/css/main.{h}.css", "/images/{id}.webp", "/healthz"];
  const agents = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "ELB-HealthChecker/2.0", "curl/8.5.0", "okhttp/4.12.0", "python-requests/2.32.3",
  ];
  const statuses = [200, 200, 200, 200, 200, 200, 301, 304, 404, 500, 502];
  const targetGroup = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-frontend/73e2d6bc24d8a067";
  let ms = Date.UTC(2024, 5, 1, 12, 0, 0);
  const chunks: Buffer[] = [];
  let bytes = 0;
  let lines = 0;
  while (bytes < targetBytes) {
    const batch: string[] = [];
    for (let i = 0; i < 1000; i++) {
      ms += Math.floor(rnd() * 3);
      const micros = String(Math.floor(rnd() * 1000)).padStart(3, "0");
      const time = new Date(ms).toISOString().replace("Z", `${micros}Z`);
      const type = pick(types);
      const scheme = type === "http" ? "http" : "https";
      const path = pick(paths).replace("{id}", String(Math.floor(rnd() * 100000))).replace("{q}", hex(6)).replace("{h}", hex(8));
      const status = pick(statuses);
      const client = `${Math.floor(rnd() * 223) + 1}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}:${1024 + Math.floor(rnd() * 60000)}`;
      const target = `10.0.${Math.floor(rnd() * 4)}.${10 + Math.floor(rnd() * 20)}:8080`;
      const method = rnd() < 0.85 ? "GET" : "POST";
      const tls = scheme === "https" ? "TLS_AES_128_GCM_SHA256 TLSv1.3" : "- -";
      batch.push(`${type} ${time} app/shop-frontend/50dc6c495c0c9188 ${client} ${target} 0.000 ${(rnd() * 0.4).toFixed(3)} 0.000 ${status} ${status} ${Math.floor(rnd() * 2000)} ${Math.floor(rnd() * 90000)} "${method} ${scheme}://shop.example.com:443${path} HTTP/${type === "h2" ? "2.0" : "1.1"}" "${pick(agents)}" ${tls} ${targetGroup} "Root=1-${hex(8)}-${hex(24)}" "shop.example.com" "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 0 ${time} "forward" "-" "-" "${target}" "${status}" "-" "-" TID_${hex(32)}`);
    }
    const chunk = Buffer.from(batch.join("\n") + "\n");
    chunks.push(chunk);
    bytes += chunk.length;
    lines += batch.length;
  }
  return { text: Buffer.concat(chunks), lines };
}

/**
 * Extra Node flags for the measured process (after the heap flags, so they may override them), e.g. BENCH_CHILD_FLAGS="--cpu-prof --cpu-prof-dir=prof"
 * to profile it (the child is then left unminified so the profile names our functions).
 */
function childFlags(): string[] {
  return (process.env.BENCH_CHILD_FLAGS ?? "").split(" ").filter((flag) => flag !== "");
}

function runChild(script: string, input: object, env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, [...LAMBDA_HEAP_FLAGS, ...childFlags(), script, JSON.stringify(input)], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      const last = stdout.trim().split("\n").pop() ?? "";
      resolvePromise(JSON.parse(last) as ChildResult);
    });
  });
}

async function main(): Promise<void> {
  const targetMb = option("mb", 100);
  const runs = option("runs", 3);
  const dir = await mkdtemp(join(tmpdir(), "bench-s3-"));
  await withBenchServers([BUCKET], dir, async ({ s3, sink }) => {
    const { text, lines } = albLog(targetMb * 1024 * 1024);
    const gz = gzipSync(text);
    const gzPath = join(dir, "alb.log.gz");
    await writeFile(gzPath, gz);
    await s3.put(BUCKET, KEY, gz);

    const script = join(dir, "s3-child.js");
    await build({
      entryPoints: [resolve(__dirname, "s3-child.ts")], bundle: true, platform: "node", target: "node20", format: "cjs",
      minify: childFlags().length === 0, legalComments: "none", outfile: script, logLevel: "error",
      // As in the Lambda bundle: the native snappy binding stays a separate module.
      external: ["snappy", "@napi-rs/snappy-*"],
    });
    const reference = await plainGunzipReference(gzPath, runs);
    const result = await runChild(script, { bucket: BUCKET, key: KEY, gzPath, runs }, {
      ...s3.env(), WRITE_ADDRESS: sink.url, LOG_LEVEL: "error", NODE_PATH: resolve(__dirname, "..", "node_modules"),
    });
    if (result.entries !== lines) throw new Error(`parsed ${result.entries} entries, expected ${lines}`);

    const textMb = mb(text.length);
    const gunzip = reference.seconds;
    console.log(`S3 ALB object -> Loki (GetObject from local s3rver, gunzip, split, parse, labels, batch, encode, snappy (${result.snappy}), push to local sink)`);
    row("measured process", `node ${[...LAMBDA_HEAP_FLAGS, ...childFlags()].join(" ")} (heap limits of a ${LAMBDA_MEMORY_MB} MB Lambda)`);
    row("object", `${mb(gz.length).toFixed(1)} MB gzip, ${textMb.toFixed(1)} MB log text, ${lines.toLocaleString("en")} lines`);
    row("full path (handler)", `${(textMb / result.fullSeconds).toFixed(1)} MB/s, ${Math.round(lines / result.fullSeconds).toLocaleString("en")} lines/s`);
    row("S3 side only (GetObject..parse)", `${(textMb / result.parseOnlySeconds).toFixed(1)} MB/s, ${Math.round(lines / result.parseOnlySeconds).toLocaleString("en")} lines/s`);
    row("gunzip in plain node (reference)", `${(textMb / reference.syncSeconds).toFixed(1)} MB/s sync, ${(textMb / reference.streamSeconds).toFixed(1)} MB/s streaming`);
    row("gunzip under the heap flags", `${(textMb / result.gunzipSyncSeconds).toFixed(1)} MB/s sync, ${(textMb / result.gunzipStreamSeconds).toFixed(1)} MB/s streaming (not the reference)`);
    row("ratio to gunzip (target >= 0.25)", `${(gunzip / result.fullSeconds).toFixed(2)} full path, ${(gunzip / result.parseOnlySeconds).toFixed(2)} S3 side only`);
    row("same, push replaced by a no-op", `${(textMb / result.noNetworkSeconds).toFixed(1)} MB/s, ratio to gunzip ${(gunzip / result.noNetworkSeconds).toFixed(2)}`);
    row(`the ${result.pushes} pushes alone`, `${result.pushesOnlySeconds.toFixed(2)} s, ${(result.pushesOnlySeconds / gunzip).toFixed(1)}x gunzip`);
    row("peak RSS (target < 128 MB)", `${mb(result.peakRssFull).toFixed(0)} MB full path, ${mb(result.peakRssParse).toFixed(0)} MB S3 side only, ${mb(result.startRss).toFixed(0)} MB after loading the bundle`);
    const idle = result.idleTimer;
    // What the bound would add at S3's ~16 KB reads over TLS, against the S3 side's own time.
    const at16k = (idle.perReadMicros / 1e6) * (gz.length / (16 * 1024));
    row("S3 body-idle timer, S3 side only", `${(idle.boundedSeconds / idle.unboundedSeconds).toFixed(3)}x the time without it (${idle.boundedSeconds.toFixed(2)} s against ${idle.unboundedSeconds.toFixed(2)} s, medians of ${idle.runs} alternating runs, ${idle.reads.toLocaleString("en")} reads of ${(gz.length / 1024 / idle.reads).toFixed(0)} KB)`);
    row("  per read, in memory", `${idle.perReadMicros.toFixed(2)} µs; at 16 KB reads (S3 over TLS) ${(at16k * 1000).toFixed(0)} ms for this object, ${(1 + at16k / result.parseOnlySeconds).toFixed(3)}x the S3 side`);
  });
}

runBench(main);
