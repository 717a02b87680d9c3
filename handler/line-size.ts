/**
 * MAX_LINE_SIZE: what to do with a line longer than Loki stores. Loki refuses an entry whose line
 * exceeds its `max_line_size` (256 KB by default; Loki 3.x answers 400 "Max entry size '262144'
 * bytes exceeded" and stores the rest of the push), so such a line is lost unless it is cut
 * before pushing. Pure: one function, used by the shipper's pipeline and the telemetry extension.
 */

/** Loki's default `max_line_size`, in bytes. */
export const DEFAULT_MAX_LINE_SIZE = 256 * 1024;

/** `truncate` as Loki's own `max_line_size_truncate` does; `drop` leaves the line out. */
export const LONG_LINE_ACTIONS = ["truncate", "drop"] as const;
export type LongLineAction = (typeof LONG_LINE_ACTIONS)[number];

/**
 * `line` itself when its UTF-8 encoding is at most `maxBytes` (Loki's limit is in bytes);
 * otherwise, for `truncate`, its longest prefix of whole characters within `maxBytes`, and for
 * `drop`, undefined. Callers compare the result with `line` to count what was cut.
 */
export function limitLine(line: string, maxBytes: number, action: LongLineAction): string | undefined {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, and at least 1: most lines are decided
  // without encoding them.
  if (line.length * 3 <= maxBytes) return line;
  if (line.length <= maxBytes && Buffer.byteLength(line, "utf8") <= maxBytes) return line;
  if (action === "drop") return undefined;
  // Only a prefix is encoded: maxBytes code units hold at least maxBytes bytes. A surrogate pair
  // split at the slice's end encodes as 3 bytes after at least maxBytes - 1 others, so it always
  // falls beyond the cut.
  const bytes = Buffer.from(line.length > maxBytes ? line.slice(0, maxBytes) : line, "utf8");
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to the first byte of the character cut in two.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.toString("utf8", 0, end);
}
