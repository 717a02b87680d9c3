/**
 * The set-up the S3 benchmarks share: a local S3 server to read objects from, a null sink to
 * push to, a temporary directory, and the teardown of all three. Apart from bench/support.ts
 * because the measured children bundle that module, and must not bundle the S3 server.
 */
import { rm } from "node:fs/promises";
import { LocalS3 } from "../tests/support/s3-server";
import { startNullSink } from "./support";

/** The local peers of an S3 benchmark: the S3 server it reads from and the null sink it pushes to. */
export interface BenchServers {
  s3: LocalS3;
  sink: { url: string };
}

/**
 * Runs `fn` with a local S3 server holding `buckets` and a null sink; afterwards stops both and
 * removes `dir` (the benchmark's temporary directory), whether `fn` succeeded or not.
 */
export async function withBenchServers<T>(buckets: string[], dir: string, fn: (servers: BenchServers) => Promise<T>): Promise<T> {
  const s3 = await LocalS3.start(buckets);
  const sink = await startNullSink();
  try {
    return await fn({ s3, sink });
  } finally {
    sink.stop();
    await s3.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs a benchmark's main function: an error is printed and fails `npm run bench`. */
export function runBench(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
