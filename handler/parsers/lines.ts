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
 * - With MAX_LINE_SIZE_ACTION=split (`splitLinesInPieces`), a longer line is handed out in
 *   pieces of at most `maxLineBytes` bytes instead, as it is read, and nothing is skipped.
 */
import { characterBoundary, DEFAULT_MAX_LINE_SIZE, limitLine } from "../line-size";
import { decodeText } from "./text";

const LF = 0x0a;

/**
 * The most bytes decoded into one string (unless a line is longer). V8 puts strings above about
 * 128 KB in its large-object space, which only full collections free: decoding a 256 KB chunk
 * whole raised the S3 benchmark's peak RSS by about 18 MB.
 */
const DECODE_SLICE_BYTES = 64 * 1024;

/** Byte stream -> lines; of a line longer than `maxLineBytes`, its first `maxLineBytes` + 1 bytes only. */
export function splitLines(chunks: AsyncIterable<Uint8Array>, maxLineBytes = DEFAULT_MAX_LINE_SIZE): AsyncGenerator<string[]> {
  return readLines(chunks, maxLineBytes, false) as AsyncGenerator<string[]>;
}

/**
 * A piece of a line longer than MAX_LINE_SIZE after its first (MAX_LINE_SIZE_ACTION=split): the
 * first piece is handed out as a line (its parser reads the time from it), the others as these.
 */
export class LinePiece {
  constructor(
    readonly text: string,
    /** 1 for the second piece of the line, 2 for the third, ... */
    readonly index: number,
  ) {}
}

/**
 * Byte stream -> lines, a line longer than `maxLineBytes` handed out in pieces of at most that
 * many bytes, cut between characters, as it is read: a 300 MB object without a newline is never
 * held whole. Every chunking gives the same pieces.
 */
export function splitLinesInPieces(chunks: AsyncIterable<Uint8Array>, maxLineBytes = DEFAULT_MAX_LINE_SIZE): AsyncGenerator<(string | LinePiece)[]> {
  return readLines(chunks, maxLineBytes, true);
}

async function* readLines(chunks: AsyncIterable<Uint8Array>, maxLineBytes: number, split: boolean): AsyncGenerator<(string | LinePiece)[]> {
  // The unfinished line: byte chunks are kept as they came and joined once its newline arrives,
  // so a 256 KB line spread over many chunks costs one copy, not one per chunk.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let atStart = true;
  // The head of an over-long line was handed out: bytes up to the next newline are skipped.
  let skipping = false;
  // split: pieces of the unfinished line handed out so far.
  let pieces = 0;
  const keep = split ? maxLineBytes : maxLineBytes + 1;

  /** `text` as the next piece of the unfinished line (the first is a line of its own). */
  const piece = (text: string): string | LinePiece => (pieces++ === 0 ? text : new LinePiece(text, pieces - 1));

  /** The unfinished line decoded (empty lines removed), and forgotten. */
  const takePending = (): (string | LinePiece)[] => {
    let text = decodeText(Buffer.concat(pending, pendingBytes));
    if (atStart) text = stripBom(text);
    atStart = false;
    pending = [];
    pendingBytes = 0;
    const lines = cleanLines([text]);
    if (pieces === 0) return lines;
    // The last piece of a split line (unless the line ended where a piece did).
    const last = lines.length > 0 ? [piece(lines[0])] : [];
    pieces = 0;
    return last;
  };
  /**
   * Adds newline-free bytes to the unfinished line. Once it would exceed `keep` bytes: without
   * split, its first `keep` bytes are returned as the line and the rest of it is skipped; with
   * split, its pieces of `keep` bytes are returned and the rest stays unfinished.
   */
  const hold = (bytes: Buffer): (string | LinePiece)[] | undefined => {
    if (pendingBytes + bytes.length <= keep) {
      if (bytes.length > 0) pending.push(bytes);
      pendingBytes += bytes.length;
      return undefined;
    }
    if (!split) {
      pending.push(bytes.subarray(0, keep - pendingBytes));
      pendingBytes = keep;
      skipping = true;
      return takePending();
    }
    const all = Buffer.concat([...pending, bytes], pendingBytes + bytes.length);
    const out: (string | LinePiece)[] = [];
    // The byte-order mark is not part of the line: the pieces are cut after it, as when the
    // line is decoded whole first.
    let start = atStart && all[0] === 0xef && all[1] === 0xbb && all[2] === 0xbf ? 3 : 0;
    atStart = false;
    while (all.length - start > keep) {
      const end = characterBoundary(all, start + keep, start);
      out.push(piece(decodeText(all.subarray(start, end))));
      start = end;
    }
    pending = start < all.length ? [all.subarray(start)] : [];
    pendingBytes = all.length - start;
    return out;
  };
  /** split: the lines of a decoded run, those longer than `keep` bytes as their pieces. */
  const splitLong = (lines: string[]): (string | LinePiece)[] => {
    if (!split) return lines;
    let out: (string | LinePiece)[] | undefined;
    for (let i = 0; i < lines.length; i++) {
      const parts = limitLine(lines[i], keep, "split");
      if (typeof parts === "string") {
        out?.push(parts);
        continue;
      }
      out ??= lines.slice(0, i);
      for (const part of parts as string[]) out.push(piece(part));
      pieces = 0;
    }
    return out ?? lines;
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
    let lines: (string | LinePiece)[];
    if (pending.length > 0 || pieces > 0) {
      // Only the unfinished line is joined; the rest of the chunk is decoded where it lies.
      const firstLf = chunk.indexOf(LF);
      // Its newline is here, so nothing after the cut (if any) remains to be skipped.
      const cut = hold(chunk.subarray(0, firstLf));
      skipping = false;
      lines = split ? (cut ?? []).concat(takePending()) : cut ?? takePending();
      if (firstLf < lastLf) lines = lines.concat(splitLong(decodeLines(chunk.subarray(firstLf + 1, lastLf), false)));
    } else {
      lines = splitLong(decodeLines(chunk.subarray(0, lastLf), atStart));
    }
    atStart = false;
    if (lines.length > 0) yield lines;
    const cut = hold(chunk.subarray(lastLf + 1));
    if (cut && cut.length > 0) yield cut;
  }

  if (pending.length > 0 || pieces > 0) {
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
