/**
 * The handler run as a 128 MB Lambda runs it: bundled by esbuild (no ts-node), in its own
 * process, under the V8 heap limits the Lambda Node.js runtime derives from the function's memory.
 * Used by the memory benchmark (bench/memory.ts) and by the tests that check a payload of the
 * largest size the shipper accepts does not exhaust a 128 MB function's heap.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp } from "node:fs/promises";
import { join, resolve } from "node:path";
import { build } from "esbuild";

/**
 * The memory the targets are about: a 128 MB function. The Lambda Node.js runtime does not run
 * Node with its defaults (sized for a machine); its bootstrap derives V8's heap limits from the
 * function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE): a tenth for the young generation, half of
 * that per semi-space, the rest for the old generation. Node's default 16 MB semi-spaces alone
 * would let the young generation take 48 MB of the 128.
 */
export const LAMBDA_MEMORY_MB = 128;
export const LAMBDA_HEAP_FLAGS = [
  `--max-semi-space-size=${Math.floor(LAMBDA_MEMORY_MB / 10 / 2)}`,
  `--max-old-space-size=${LAMBDA_MEMORY_MB - Math.floor(LAMBDA_MEMORY_MB / 10)}`,
];
/**
 * The runtime's bootstrap also passes `--expose-gc` (handler/memory.ts uses it) and sets
 * AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
 */
export const LAMBDA_NODE_FLAGS = ["--expose-gc", ...LAMBDA_HEAP_FLAGS];

/** What the child reports (one JSON line on stdout). */
export interface HeapLimitedRun {
  /** The handler's answer. */
  response: unknown;
  /** RSS once the event was parsed and the file's text let go, when the peak was reset. */
  startRss: number;
  /** Peak RSS from then until the handler answered (the kernel's VmHWM, reset before the call). */
  peakRss: number;
  /** V8's heap limit in the child, to show the flags applied. */
  heapLimit: number;
  seconds: number;
  /** What the child wrote to stderr (e.g. --trace-gc's lines). */
  stderr?: string;
}

/**
 * A fresh directory for the bundled child, inside the repository's node_modules: the AWS SDK
 * clients stay outside the bundle, as in Lambda, and the handler's `import()` of them resolves
 * from the script's own location (NODE_PATH does not apply to `import()`).
 */
export function handlerChildDir(): Promise<string> {
  const cache = resolve(__dirname, "..", "..", "node_modules", ".cache");
  return mkdir(cache, { recursive: true }).then(() => mkdtemp(join(cache, "handler-child-")));
}

/** Bundles tests/support/handler-child.ts into `dir` (from handlerChildDir), as the Lambda bundle is built; returns the script's path. */
export async function buildHandlerChild(dir: string, minify = true): Promise<string> {
  const script = join(dir, "handler-child.js");
  await build({
    entryPoints: [resolve(__dirname, "handler-child.ts")], bundle: true, platform: "node", target: "node20", format: "cjs",
    minify, legalComments: "none", outfile: script, logLevel: "error",
    // As in the Lambda bundle (npm run build): the native snappy binding stays a separate module,
    // and the AWS SDK clients come from the runtime.
    external: ["snappy", "@napi-rs/snappy-*", "@aws-sdk/*"],
  });
  return script;
}

/**
 * Runs the bundled handler on the event stored (as Lambda's runtime receives it, JSON text) at
 * `eventPath`, with the 128 MB function's Node flags and memory size plus `extraFlags`. Rejects when the child
 * fails (out of memory included), with its stderr.
 */
export function runHandlerChild(script: string, eventPath: string, env: Record<string, string>, extraFlags: string[] = []): Promise<HeapLimitedRun> {
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, [...LAMBDA_NODE_FLAGS, ...extraFlags, script, eventPath], {
      env: { ...process.env, NODE_PATH: resolve(__dirname, "..", "..", "node_modules"), AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(LAMBDA_MEMORY_MB), ...env },
      maxBuffer: 64 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr.slice(-4000)}`));
      const lines = stdout.trim().split("\n");
      const last = lines.pop() ?? "";
      stderr = lines.join("\n") + (lines.length > 0 ? "\n" : "") + stderr;
      resolvePromise({ ...(JSON.parse(last) as HeapLimitedRun), stderr });
    });
  });
}
