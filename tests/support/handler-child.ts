/**
 * The measured side of tests/support/lambda-heap.ts: reads one event as the Lambda runtime
 * receives it (JSON text), parses it, lets go of the text, collects garbage and resets the
 * kernel's peak-RSS mark, then runs the handler once and reports its answer and the peak RSS
 * (one JSON line on stdout). The process holds nothing of its input that a Lambda would not:
 * the parsed event, as the runtime hands it to the handler.
 *
 *   node --expose-gc <heap flags> handler-child.js event.json
 */
import { readFileSync, writeFileSync } from "node:fs";
import { getHeapStatistics } from "node:v8";
import { handler } from "../../handler/index";

function vmHwm(): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
  if (!match) throw new Error("no VmHWM in /proc/self/status");
  return Number(match[1]) * 1024;
}

/** In a function of its own, so that the file's text is unreachable once it returns. */
function readEvent(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

async function main(): Promise<void> {
  const event = readEvent(process.argv[2]);
  (globalThis as { gc?: () => void }).gc?.();
  // Linux: writing 5 resets VmHWM to the current RSS, so the peak is the handler's alone.
  writeFileSync("/proc/self/clear_refs", "5");
  const startRss = process.memoryUsage().rss;
  const start = process.hrtime.bigint();
  const response = await handler(event, { awsRequestId: "heap-limited", getRemainingTimeInMillis: () => 120_000 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const peakRss = vmHwm();
  process.stdout.write(JSON.stringify({ response: response ?? null, startRss, peakRss, heapLimit: getHeapStatistics().heap_size_limit, seconds }) + "\n");
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
