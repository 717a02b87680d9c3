/**
 * Captures the function's own JSON log lines (Powertools Logger writes them to stdout, errors and
 * warnings to stderr) while a test runs the real handler, so that tests can check what an
 * operator would read, and keeps them out of the test report.
 */
export interface CapturedLogs {
  /** Every captured line, parsed. */
  readonly entries: Record<string, unknown>[];
  /** All captured lines as one string, for pattern assertions. */
  text(): string;
  /** The captured lines whose message is `message`. */
  withMessage(message: string): Record<string, unknown>[];
  restore(): void;
}

export function captureFunctionLogs(): CapturedLogs {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr];
  const previous = streams.map((stream) => stream.write);
  streams.forEach((stream, i) => {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk === "string" && chunk.startsWith('{"level":')) {
        lines.push(...chunk.split("\n").filter((l) => l !== ""));
        return true;
      }
      return (previous[i] as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
  });
  return {
    get entries() {
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => lines.join("\n"),
    withMessage(message) {
      return this.entries.filter((e) => e.message === message);
    },
    restore: () => {
      streams.forEach((stream, i) => {
        stream.write = previous[i];
      });
    },
  };
}
