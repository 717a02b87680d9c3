/**
 * Byte stream -> lines, in bounded memory: only the current chunk and the unfinished line are
 * held. Lines are handed out in batches (one array per input chunk) because a promise per line
 * costs more than parsing an ALB line.
 *
 * - LF and CRLF endings; a missing newline at the end of the object still ends the last line.
 * - Empty lines are skipped: they carry nothing and Loki rejects empty entries.
 * - A UTF-8 byte-order mark at the start of the object is dropped.
 * - At most `maxLineBytes` + 1 bytes of one line are held (MAX_LINE_SIZE): of a longer line,
 *   those are handed out as soon as they are read, and the rest up to the next newline is
 *   skipped. Loki refuses such a line anyway; the pipeline truncates or drops it (one byte more
 *   than the limit shows it that the line was too long). A 300 MB object without a newline
 *   therefore costs MAX_LINE_SIZE of memory, not 300 MB. (A long line that lies inside one
 *   input chunk is decoded whole: the chunk is held anyway.)
 */
import { DEFAULT_MAX_LINE_SIZE } from "../line-size";
import { decodeText } from "./text";

const LF = 0x0a;

/**
 * The most bytes decoded into one string (unless a line is longer). V8 puts strings above about
 * 128 KB in its large-object space, which only full collections free: decoding a 256 KB chunk
 * whole raised the S3 benchmark's peak RSS by about 18 MB.
 */
const DECODE_SLICE_BYTES = 64 * 1024;

export async function* splitLines(chunks: AsyncIterable<Uint8Array>, maxLineBytes = DEFAULT_MAX_LINE_SIZE): AsyncGenerator<string[]> {
  // The unfinished line: byte chunks are kept as they came and joined once its newline arrives,
  // so a 256 KB line spread over many chunks costs one copy, not one per chunk.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let atStart = true;
  // The head of an over-long line was handed out: bytes up to the next newline are skipped.
  let skipping = false;
  const keep = maxLineBytes + 1;

  /** The unfinished line decoded (empty lines removed), and forgotten. */
  const takePending = (): string[] => {
    let text = decodeText(Buffer.concat(pending, pendingBytes));
    if (atStart) text = stripBom(text);
    atStart = false;
    pending = [];
    pendingBytes = 0;
    return cleanLines([text]);
  };
  /**
   * Adds newline-free bytes to the unfinished line. Once it would exceed `keep` bytes, its
   * first `keep` bytes are returned as the line and the rest of it is skipped.
   */
  const hold = (bytes: Buffer): string[] | undefined => {
    if (pendingBytes + bytes.length <= keep) {
      if (bytes.length > 0) pending.push(bytes);
      pendingBytes += bytes.length;
      return undefined;
    }
    pending.push(bytes.subarray(0, keep - pendingBytes));
    pendingBytes = keep;
    skipping = true;
    return takePending();
  };

  for await (const raw of chunks) {
    let chunk = asBuffer(raw);
    if (skipping) {
      const lf = chunk.indexOf(LF);
      if (lf === -1) continue;
      skipping = false;
      chunk = chunk.subarray(lf + 1);
    }
    if (chunk.length === 0) continue;
    const lastLf = chunk.lastIndexOf(LF);
    if (lastLf === -1) {
      const cut = hold(chunk);
      if (cut && cut.length > 0) yield cut;
      continue;
    }
    let lines: string[];
    if (pending.length > 0) {
      // Only the unfinished line is joined; the rest of the chunk is decoded where it lies.
      const firstLf = chunk.indexOf(LF);
      // Its newline is here, so nothing after the cut (if any) remains to be skipped.
      const cut = hold(chunk.subarray(0, firstLf));
      skipping = false;
      lines = cut ?? takePending();
      if (firstLf < lastLf) lines = lines.concat(decodeLines(chunk.subarray(firstLf + 1, lastLf), false));
    } else {
      lines = decodeLines(chunk.subarray(0, lastLf), atStart);
    }
    atStart = false;
    if (lines.length > 0) yield lines;
    const cut = hold(chunk.subarray(lastLf + 1));
    if (cut && cut.length > 0) yield cut;
  }

  if (pending.length > 0) {
    const lines = takePending();
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
