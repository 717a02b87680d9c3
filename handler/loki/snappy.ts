/**
 * Snappy *block* compression of push bodies (the raw format Loki's push endpoint reads, not
 * the framed one). Two implementations, chosen once per process:
 *
 * - `native`: the Rust binding of the `snappy` npm package (napi-rs). It compresses push
 *   bodies four to six times faster than snappyjs (bench/encode.ts), which turns compression from the
 *   largest cost of a push into a small one. On Linux the glibc binding of this CPU is loaded
 *   directly: the `snappy` package's own loader probes for musl first (reading files, maybe
 *   spawning `ldd`), which costs about 10 ms of cold start.
 * - `snappyjs`: pure JavaScript, the fallback wherever that binding is not installed (for
 *   example a zip package built on a machine of another platform). The handler logs a warning
 *   at cold start when it falls back.
 */
import * as snappyjs from "snappyjs";

export type SnappyImplementation = "native" | "snappyjs";

export interface SnappyCompressor {
  implementation: SnappyImplementation;
  compress(input: Buffer): Uint8Array;
  /**
   * Reads a block back (a push body Loki answered 413, to split it: see decode.ts). Only ever
   * given bodies this process compressed, whose size the batch bounds.
   */
  uncompress(input: Uint8Array): Buffer;
  /** Why the native binding could not be loaded, when the fallback is in use. */
  nativeLoadError?: string;
}

/**
 * The npm package holding the native binding for a Lambda architecture (Lambda runs Linux
 * with glibc). The build stages it next to the bundle (scripts/stage-snappy-binding.ts) and
 * the Pulumi program zips it with the bundle.
 */
export function lambdaSnappyBinding(architecture: "x86_64" | "arm64"): string {
  return architecture === "arm64" ? "@napi-rs/snappy-linux-arm64-gnu" : "@napi-rs/snappy-linux-x64-gnu";
}

export interface NativeSnappy {
  compressSync(input: Uint8Array, options: { copyOutputData: boolean }): Buffer;
  uncompressSync(input: Uint8Array, options: { asBuffer: true; copyOutputData: boolean }): Buffer;
}

/** The modules that may hold the binding for this process, most direct first. */
function nativeCandidates(): (() => NativeSnappy)[] {
  // Literal, synchronous requires: the bundler keeps them external (package.json "build"), a
  // reader sees exactly which packages the Lambda may load, and the choice is made before the
  // first push without making compression asynchronous.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const direct: (() => NativeSnappy)[] = [];
  if (process.platform === "linux" && process.arch === "x64") direct.push(() => require("@napi-rs/snappy-linux-x64-gnu"));
  if (process.platform === "linux" && process.arch === "arm64") direct.push(() => require("@napi-rs/snappy-linux-arm64-gnu"));
  return [...direct, () => require("snappy")];
  /* eslint-enable @typescript-eslint/no-require-imports */
}

function loadNative(candidates: readonly (() => NativeSnappy)[]): NativeSnappy | Error {
  const failures: string[] = [];
  for (const load of candidates) {
    try {
      const binding = load();
      if (typeof binding.compressSync === "function" && typeof binding.uncompressSync === "function") return binding;
      failures.push("module has no compressSync and uncompressSync");
    } catch (error) {
      failures.push((error as Error).message.split("\n")[0]);
    }
  }
  return new Error(failures.join("; "));
}

function nativeCompressor(binding: NativeSnappy): SnappyCompressor {
  return {
    implementation: "native",
    // copyOutputData: return a Buffer in V8's own memory. The default, an external buffer
    // released by a finaliser, costs more than the compression itself at push-body sizes.
    compress: (input) => binding.compressSync(input, { copyOutputData: true }),
    uncompress: (input) => binding.uncompressSync(input, { asBuffer: true, copyOutputData: true }),
  };
}

function snappyjsCompressor(nativeLoadError?: string): SnappyCompressor {
  // snappyjs returns a value of the input's kind; a Buffer input saves it one more copy.
  return {
    implementation: "snappyjs",
    compress: (input) => snappyjs.compress(input),
    uncompress: (input) => snappyjs.uncompress(Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength)),
    nativeLoadError,
  };
}

/** The first candidate binding that loads, else snappyjs with the reasons the candidates failed. */
export function chooseCompressor(candidates: readonly (() => NativeSnappy)[]): SnappyCompressor {
  const native = loadNative(candidates);
  return native instanceof Error ? snappyjsCompressor(native.message) : nativeCompressor(native);
}

let chosen: SnappyCompressor | undefined;

/** The compressor of this process: native when its binding loads, snappyjs otherwise. */
export function snappyCompressor(): SnappyCompressor {
  chosen ??= chooseCompressor(nativeCandidates());
  return chosen;
}

/**
 * Forces one implementation (tests and benchmarks compare both); `undefined` returns to the
 * automatic choice. Throws when `native` is asked for and its binding does not load.
 */
export function useSnappyImplementation(implementation: SnappyImplementation | undefined): SnappyCompressor {
  chosen = undefined;
  if (implementation === "snappyjs") chosen = snappyjsCompressor();
  if (implementation === "native") {
    const native = loadNative(nativeCandidates());
    if (native instanceof Error) throw new Error(`native snappy binding not available: ${native.message}`);
    chosen = nativeCompressor(native);
  }
  return snappyCompressor();
}
