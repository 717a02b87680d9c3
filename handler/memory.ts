/**
 * Memory pressure relief before a payload is inflated whole (CloudWatch Logs subscription
 * payloads and gzip Kinesis records, up to MAX_DECOMPRESSED_SIZE each).
 *
 * Each such payload leaves garbage several times its size (the inflated text, held outside V8's
 * heap as an external string, and the parsed JSON), and V8 collects it lazily: under a 128 MB
 * function's heap limits, the garbage of five 11 MB Kinesis records piled up to 177 MB of RSS
 * before a full collection ran, although no more than 35 MB was ever live. The Lambda Node.js
 * runtime starts Node with `--expose-gc`; when the process already uses more than half of the
 * function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE), a full collection before the next payload
 * frees the previous one's garbage (about 20-50 ms for a heap of this size). Outside Lambda, or
 * without `gc`, nothing happens.
 */

/** The share of the function's memory above which a payload is preceded by a full collection. */
export const PRESSURE_SHARE = 0.5;

export function relieveMemoryPressure(env: NodeJS.ProcessEnv = process.env): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (typeof gc !== "function" || !(memoryMb > 0)) return false;
  if (process.memoryUsage.rss() < memoryMb * 1024 * 1024 * PRESSURE_SHARE) return false;
  gc();
  return true;
}

/** Parsing a payload whole holds about this many times its inflated size: its text, its parsed JSON and their entries. */
export const WHOLE_PARSE_FACTOR = 3;

/**
 * Whether a subscription payload inflated to `bytes` is read event by event (see
 * sources/cloudwatch-payload.ts) rather than parsed whole. Parsing whole is cheaper in CPU (the
 * event-by-event reader scans the bytes in JavaScript before decoding each line: about a fifth
 * more CPU time on the CloudWatch path) but holds several times the payload at once; it is kept
 * where that fits: outside Lambda, and in a function whose memory stays under PRESSURE_SHARE with
 * it (a 512 MB function parses whole, a 128 MB one reads its payloads of megabytes event by event).
 */
export function readsEventByEvent(bytes: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (!(memoryMb > 0)) return false;
  return process.memoryUsage.rss() + WHOLE_PARSE_FACTOR * bytes > memoryMb * 1024 * 1024 * PRESSURE_SHARE;
}
