/**
 * Byte stream -> lines, in bounded memory: only the current chunk and the unfinished line are
 * held. Lines are handed out in batches (one array per input chunk) because a promise per line
 * costs more than parsing an ALB line.
 *
 * - LF and CRLF endings; a missing newline at the end of the object still ends the last line.
 * - Empty lines are skipped: they carry nothing and Loki rejects empty entries.
 * - A UTF-8 byte-order mark at the start of the object is dropped.
 * - No line-length limit short of MAX_LINE_BYTES, a guard against a corrupt object (a binary
 *   file without newlines) exhausting the function's memory; it is far above any limit Loki
 *   accepts, so no real line is ever cut.
 */
import { BadRecordError } from "../types";
import { decodeText } from "./text";

export const MAX_LINE_BYTES = 64 * 1024 * 1024;

const LF = 0x0a;

/**
 * The most bytes decoded into one string (unless a line is longer). V8 puts strings above about
 * 128 KB in its large-object space, which only full collections free: decoding a 256 KB chunk
 * whole raised the S3 benchmark's peak RSS by about 18 MB.
 */
const DECODE_SLICE_BYTES = 64 * 1024;

export async function* splitLines(chunks: AsyncIterable<Uint8Array>, what = "object"): AsyncGenerator<string[]> {
  // The unfinished line: byte chunks are kept as they came and joined once its newline arrives,
  // so a 1 MB line spread over many chunks costs one copy, not one per chunk.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let atStart = true;

  for await (const raw of chunks) {
    const chunk = asBuffer(raw);
    if (chunk.length === 0) continue;
    const lastLf = chunk.lastIndexOf(LF);
    if (lastLf === -1) {
      pendingBytes += chunk.length;
      if (pendingBytes > MAX_LINE_BYTES) throw lineTooLong(what);
      pending.push(chunk);
      continue;
    }
    let lines: string[];
    if (pending.length > 0) {
      // Only the unfinished line is joined; the rest of the chunk is decoded where it lies.
      const firstLf = chunk.indexOf(LF);
      if (pendingBytes + firstLf > MAX_LINE_BYTES) throw lineTooLong(what);
      pending.push(chunk.subarray(0, firstLf));
      lines = decodeLines(Buffer.concat(pending, pendingBytes + firstLf), atStart);
      pending = [];
      if (firstLf < lastLf) lines = lines.concat(decodeLines(chunk.subarray(firstLf + 1, lastLf), false));
    } else {
      lines = decodeLines(chunk.subarray(0, lastLf), atStart);
    }
    atStart = false;
    if (lines.length > 0) yield lines;
    const rest = chunk.subarray(lastLf + 1);
    pendingBytes = rest.length;
    if (rest.length > 0) pending.push(rest);
  }

  if (pending.length > 0) {
    let text = decodeText(Buffer.concat(pending, pendingBytes));
    if (atStart) text = stripBom(text);
    const lines = cleanLines([text]);
    if (lines.length > 0) yield lines;
  }
}

/**
 * The lines of `bytes` (whole lines, without the final newline). Decoding a slice of many lines
 * at once (cut at a newline, so never inside a UTF-8 sequence) is much cheaper than one toString
 * per line. Slices stay under DECODE_SLICE_BYTES unless one line is longer.
 */
function decodeLines(bytes: Buffer, atStart: boolean): string[] {
  let lines: string[] = [];
  for (let start = 0; start <= bytes.length;) {
    let end = bytes.length;
    if (end - start > DECODE_SLICE_BYTES) {
      end = bytes.lastIndexOf(LF, start + DECODE_SLICE_BYTES);
      if (end < start) end = bytes.indexOf(LF, start + DECODE_SLICE_BYTES);
      if (end === -1) end = bytes.length;
    }
    let text = decodeText(bytes.subarray(start, end));
    if (atStart && start === 0) text = stripBom(text);
    const sliceLines = text.split("\n");
    lines = lines.length === 0 ? sliceLines : lines.concat(sliceLines);
    start = end + 1;
  }
  return cleanLines(lines);
}

/** Strips a trailing CR from each line and removes empty lines, in place. */
function cleanLines(lines: string[]): string[] {
  let out = 0;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (line.length > 0) lines[out++] = line;
  }
  lines.length = out;
  return lines;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function lineTooLong(what: string): BadRecordError {
  return new BadRecordError(`${what}: a line is longer than ${MAX_LINE_BYTES} bytes; the object is probably not a text log`);
}
