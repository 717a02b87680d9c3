/**
 * A 300 MB S3 object without a newline through the real handler, in a process run as a 128 MB
 * function runs it (the bundle under the runtime's heap limits, tests/support/lambda-heap.ts),
 * with the default MAX_LINE_SIZE_ACTION (truncate: the first MAX_LINE_SIZE bytes are shipped,
 * the rest of the line is read and let go) and with drop. Peak RSS, target < 128 MB (the S3
 * benchmark's). MAX_LINE_SIZE_ACTION=split on the same object is in bench/memory.ts.
 *
 *   npx ts-node bench/s3-long-line.ts
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_MAX_LINE_SIZE } from "../handler/line-size";
import { buildHandlerChild, handlerChildDir, LAMBDA_MEMORY_MB, LAMBDA_NODE_FLAGS, runHandlerChild } from "../tests/support/lambda-heap";
import { newlineFreeObject } from "../tests/support/large-events";
import { s3Notification, s3Record } from "../tests/support/s3-events";
import { runBench, withBenchServers } from "./servers";
import { mb, row } from "./support";

const TARGET_MB = 128;
const OBJECT_BYTES = 300 * 1024 * 1024;
const BUCKET = "bench-long-line";
const KEY = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/06/01/123456789012_elasticloadbalancing_us-east-1_app.one-line.50dc6c495c0c9188_20240601T1200Z_10.0.0.1_2et2e1mx.log.gz";

async function main(): Promise<void> {
  const dir = await handlerChildDir();
  await withBenchServers([BUCKET], dir, async ({ s3, sink }) => {
    const object = await newlineFreeObject(OBJECT_BYTES);
    await s3.put(BUCKET, KEY, object.gz);
    const script = await buildHandlerChild(dir);
    const eventPath = join(dir, "event.json");
    await writeFile(eventPath, JSON.stringify(s3Notification(s3Record(BUCKET, KEY))));
    console.log(`S3 object of ${mb(object.bytes).toFixed(0)} MB in one line (${mb(object.gz.length).toFixed(2)} MB gzip) through the bundled handler (node ${LAMBDA_NODE_FLAGS.join(" ")}: a ${LAMBDA_MEMORY_MB} MB Lambda; push to a local sink)`);
    for (const action of ["truncate", "drop"]) {
      const run = await runHandlerChild(script, eventPath, { ...s3.env(), WRITE_ADDRESS: sink.url, LOG_LEVEL: "error", METRICS: "false", MAX_LINE_SIZE_ACTION: action });
      if (run.response !== null) throw new Error(`MAX_LINE_SIZE_ACTION=${action}: unexpected response ${JSON.stringify(run.response)}`);
      const peak = mb(run.peakRss);
      const what = action === "truncate" ? `(the default; ships the first ${DEFAULT_MAX_LINE_SIZE / 1024} KB)` : "(ships nothing, counts the line)";
      row(`MAX_LINE_SIZE_ACTION=${action}`, `peak RSS ${peak.toFixed(0)} MB (target < ${TARGET_MB} MB: ${peak < TARGET_MB ? "met" : "NOT met"}) ${what}, ${run.seconds.toFixed(1)} s, ${(mb(object.bytes) / run.seconds).toFixed(0)} MB/s`);
    }
  });
}

runBench(main);
