/**
 * Loaded by .mocharc before every test file: keeps the function's own JSON log lines (written
 * by Powertools Logger to stdout, and its embedded-metric-format lines) out of the test report, so mocha's output stays readable.
 * Set SHOW_FUNCTION_LOGS=1 to see them while debugging.
 */
if (!process.env.SHOW_FUNCTION_LOGS) {
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === "string" && (chunk.startsWith('{"level":') || chunk.startsWith('{"_aws":'))) return true;
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
}
