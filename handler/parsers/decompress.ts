/**
 * Object bytes -> plain bytes, as a stream. Compression is recognised by the gzip magic bytes,
 * not by the key's extension: AWS writes `.log.gz` for most services, but users re-upload
 * plain files, and CloudFront's `.gz` is sometimes served decompressed by tools in between.
 *
 * Multi-member gzip (concatenated files) is decompressed whole, like `zcat`. A truncated or
 * corrupt gzip stream fails with a BadRecordError naming the object, after the lines before the
 * damage were handed out; the record is then retried and Loki drops the entries it already has.
 */
import { Readable, TransformOptions, pipeline } from "node:stream";
import { createGunzip, ZlibOptions } from "node:zlib";
import { BadRecordError } from "../types";

/**
 * Output chunk of the gunzip stream. zlib inflates on the thread pool, one chunk per round trip,
 * and a round trip costs about 0.1 ms on the benchmark machine: with 64 KB chunks, streaming
 * gunzip ran at half the speed of gunzipSync. (The line splitter decodes a chunk in smaller
 * slices, so large chunks do not make large strings; see lines.ts.)
 */
const GUNZIP_CHUNK = 256 * 1024;
/**
 * Decompressed bytes the stream may hold before the reader takes them. With the stream default
 * (16 KB, less than one chunk) zlib stopped after every chunk until the lines of the previous one
 * were parsed, so inflating and parsing took turns instead of overlapping.
 */
const GUNZIP_AHEAD_BYTES = 4 * GUNZIP_CHUNK;
/** Enough bytes to recognise every signature below. */
const SNIFF_BYTES = 4;

export async function* decompress(source: AsyncIterable<Uint8Array>, what: string): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  try {
    const head: Buffer[] = [];
    let headBytes = 0;
    let ended = false;
    while (headBytes < SNIFF_BYTES) {
      const next = await it.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = asBuffer(next.value);
      if (chunk.length === 0) continue;
      head.push(chunk);
      headBytes += chunk.length;
    }
    const start = head.length === 1 ? head[0] : Buffer.concat(head);
    const all = async function* (): AsyncGenerator<Buffer> {
      if (start.length > 0) yield start;
      if (ended) return;
      for (;;) {
        const next = await it.next();
        if (next.done) return;
        yield asBuffer(next.value);
      }
    };

    if (isParquet(start)) {
      throw new BadRecordError(`${what} is an Apache Parquet file, which is not supported: deliver the logs as plain text (for VPC flow logs: log file format "plain-text")`);
    }
    if (!isGzip(start)) {
      yield* all();
      return;
    }
    // zlib hands its options on to its Transform stream; Node's typings only list zlib's own.
    const options: ZlibOptions & TransformOptions = { chunkSize: GUNZIP_CHUNK, readableHighWaterMark: GUNZIP_AHEAD_BYTES };
    const gunzip = createGunzip(options);
    // pipeline() forwards a read error of the source into gunzip, so the loop below sees it, and
    // tears both down when the consumer stops early.
    pipeline(Readable.from(all(), { objectMode: false }), gunzip, () => undefined);
    try {
      for await (const out of gunzip) yield out as Buffer;
    } catch (err) {
      throw isZlibError(err)
        ? new BadRecordError(`${what}: gzip data is truncated or corrupt (${(err as Error).message})`, { cause: err })
        : err;
    }
  } finally {
    // Releases the HTTP connection of an S3 body when the reader stops before the end.
    try {
      await it.return?.();
    } catch {
      // The body was already destroyed by the error being reported.
    }
  }
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function isParquet(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x41 && bytes[2] === 0x52 && bytes[3] === 0x31;
}

function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("Z_");
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
