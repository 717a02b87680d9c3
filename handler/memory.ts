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
