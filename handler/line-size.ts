/**
 * MAX_LINE_SIZE: what to do with a line longer than Loki stores. Loki refuses an entry whose line
 * exceeds its `max_line_size` (256 KB by default; Loki 3.x answers 400 "Max entry size '262144'
 * bytes exceeded" and stores the rest of the push), so such a line is lost unless it is cut
 * before pushing. Pure: one function, used by the shipper's pipeline and the telemetry extension.
 */

/** Loki's default `max_line_size`, in bytes. */
export const DEFAULT_MAX_LINE_SIZE = 256 * 1024;

/**
 * `truncate` as Loki's own `max_line_size_truncate` does; `drop` leaves the line out; `split`
 * ships it whole as consecutive entries of at most MAX_LINE_SIZE bytes (Promtail has no such
 * action).
 */
export const LONG_LINE_ACTIONS = ["truncate", "drop", "split"] as const;
export type LongLineAction = (typeof LONG_LINE_ACTIONS)[number];

/**
 * `line` itself when its UTF-8 encoding is at most `maxBytes` (Loki's limit is in bytes; most
 * lines are decided without encoding them). Otherwise, for `truncate`, its longest prefix of
 * whole characters within `maxBytes`; for `drop`, undefined; for `split`, its pieces in order,
 * each the longest run of whole characters within `maxBytes` (only the last may be shorter for
 * another reason than a character that did not fit). Callers compare the result with `line` to
 * count what was cut.
 */
export function limitLine(line: string, maxBytes: number, action: LongLineAction): string | string[] | undefined {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, and at least 1.
  if (line.length * 3 <= maxBytes) return line;
  if (line.length <= maxBytes && Buffer.byteLength(line, "utf8") <= maxBytes) return line;
  if (action === "drop") return undefined;
  if (action === "split") return splitUtf8(Buffer.from(line, "utf8"), maxBytes);
  // Only a prefix is encoded: maxBytes code units hold at least maxBytes bytes. A surrogate pair
  // split at the slice's end encodes as 3 bytes after at least maxBytes - 1 others, so it always
  // falls beyond the cut.
  const bytes = Buffer.from(line.length > maxBytes ? line.slice(0, maxBytes) : line, "utf8");
  return bytes.toString("utf8", 0, characterBoundary(bytes, maxBytes));
}

/** The counters of lines over MAX_LINE_SIZE, as the summary line and the metrics name them. */
export interface LongLineCounts {
  truncatedLines: number;
  droppedLongLines: number;
  splitLines: number;
}

/** limitLine, with what it did to a line counted in `counts` (the shipper's and the extension's totals). */
export function limitCountedLine(line: string, maxBytes: number, action: LongLineAction, counts: LongLineCounts): string | string[] | undefined {
  const limited = limitLine(line, maxBytes, action);
  if (limited === line) return line;
  if (limited === undefined) counts.droppedLongLines++;
  else if (typeof limited === "string") counts.truncatedLines++;
  else counts.splitLines++;
  return limited;
}

/** `bytes` (UTF-8) decoded in pieces of at most `maxBytes`, cut between characters. */
function splitUtf8(bytes: Buffer, maxBytes: number): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < bytes.length;) {
    const end = start + maxBytes >= bytes.length ? bytes.length : characterBoundary(bytes, start + maxBytes, start);
    pieces.push(bytes.toString("utf8", start, end));
    start = end;
  }
  return pieces;
}

/**
 * The last character boundary at or before `end` in UTF-8 `bytes`: steps back over the
 * continuation bytes (10xxxxxx) of the character cut in two. A UTF-8 character has at most three
 * of them; bytes that are not UTF-8 (an S3 object holding binary data) are cut where they lie
 * rather than searched further, and never before `start` + 1, so a piece is never empty.
 */
export function characterBoundary(bytes: Uint8Array, end: number, start = 0): number {
  if (end >= bytes.length) return bytes.length;
  let cut = end;
  while (cut > start + 1 && end - cut < 3 && (bytes[cut] & 0xc0) === 0x80) cut--;
  return (bytes[cut] & 0xc0) === 0x80 ? end : cut;
}
