/**
 * The byte-level layers under every S3 format: gzip detection and streaming gunzip, and the line
 * splitter (CRLF, BOM, chunk boundaries inside lines and inside UTF-8 sequences, huge lines).
 */
import { expect } from "chai";
import { gzipSync } from "node:zlib";
import { decompress } from "../handler/parsers/decompress";
import { DEFAULT_MAX_LINE_SIZE, limitLine } from "../handler/line-size";
import { splitLines } from "../handler/parsers/lines";
import { decodeText } from "../handler/parsers/text";
import { BadRecordError } from "../handler/types";
import { failure } from "./support/events";
import { seededRandom } from "./support/random";

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function lines(bytes: Uint8Array, chunkSize = 64 * 1024, maxLineBytes?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of splitLines(decompress(chunked(bytes, chunkSize), "s3://b/k"), maxLineBytes)) out.push(...batch);
  return out;
}

describe("S3 byte stream: decompression and line splitting", () => {
  const text = "first line\r\nsecond line\n\nthird ✓ line\r\nlast line without newline";
  const expected = ["first line", "second line", "third ✓ line", "last line without newline"];

  it("splits plain text on LF and CRLF, skipping empty lines", async () => {
    expect(await lines(Buffer.from(text))).to.deep.equal(expected);
  });

  it("recognises gzip by its magic bytes, not by a name", async () => {
    expect(await lines(gzipSync(text))).to.deep.equal(expected);
  });

  it("gives the same lines whatever the chunk boundaries (1-byte chunks split CRLF and UTF-8 sequences)", async () => {
    for (const size of [1, 2, 3, 7, 13]) {
      expect(await lines(Buffer.from(text), size), `plain, chunk ${size}`).to.deep.equal(expected);
      expect(await lines(gzipSync(text), size), `gzip, chunk ${size}`).to.deep.equal(expected);
    }
  });

  it("drops a UTF-8 byte-order mark at the start only", async () => {
    expect(await lines(Buffer.from("\ufeffa\n\ufeffb\n"), 1)).to.deep.equal(["a", "\ufeffb"]);
  });

  it("yields nothing for an empty object, plain or gzip", async () => {
    expect(await lines(Buffer.alloc(0))).to.deep.equal([]);
    expect(await lines(gzipSync(Buffer.alloc(0)))).to.deep.equal([]);
    expect(await lines(Buffer.from("\n\r\n\n"))).to.deep.equal([]);
  });

  it("reads concatenated gzip members like zcat", async () => {
    expect(await lines(Buffer.concat([gzipSync("a\nb\n"), gzipSync("c\n")]), 5)).to.deep.equal(["a", "b", "c"]);
  });

  it("hands out the first MAX_LINE_SIZE + 1 bytes of a 1 MB line and skips the rest of it, whatever the chunks", async () => {
    const big = "x".repeat(1024 * 1024);
    for (const size of [4096, 300_000, 2 * 1024 * 1024]) {
      const got = await lines(gzipSync(`before\n${big}\r\nafter\n`), size);
      expect(got.map((l) => l.length), `chunk ${size}`).to.deep.equal([6, DEFAULT_MAX_LINE_SIZE + 1, 5]);
    }
  });

  it("keeps at most MAX_LINE_SIZE + 1 bytes of a line spanning chunks; after the pipeline's cut every chunking gives the same lines", async () => {
    // Limit 10: an 11-byte head shows the pipeline that the line was too long. A line inside one
    // chunk is decoded whole (the chunk is held anyway), so only the cut result is chunk-independent.
    const text = "0123456789abcdef\nshort\nexactly10!\n0123456789X\n😀😀😀😀\nlast line too long";
    const expected = ["0123456789", "short", "exactly10!", "0123456789", "😀😀", "last line "];
    for (const size of [1, 2, 3, 5, 11, 12, 64, 1000]) {
      const got = await lines(Buffer.from(text), size, 10);
      expect(got.map((l) => limitLine(l, 10, "truncate")), `chunk ${size}`).to.deep.equal(expected);
      // A cut inside a character decodes to U+FFFD (3 bytes): at most 2 bytes more.
      for (const l of got) expect(Buffer.byteLength(l), `chunk ${size}: ${l}`).to.be.at.most(Math.max(11 + 2, size));
    }
  });

  it("fails a truncated gzip object with a BadRecordError naming it, after the lines before the damage", async () => {
    const gz = gzipSync("line\n".repeat(50_000));
    const seen: string[] = [];
    const err = await failure((async () => {
      for await (const batch of splitLines(decompress(chunked(gz.subarray(0, gz.length - 200), 1000), "s3://b/k.gz"))) seen.push(...batch);
    })());
    expect(err).to.be.instanceOf(BadRecordError);
    expect(err.message).to.contain("s3://b/k.gz").and.contain("truncated or corrupt");
    expect(seen.length).to.be.greaterThan(0);
  });

  it("fails corrupt gzip data with a BadRecordError", async () => {
    const gz = gzipSync("hello\n");
    gz[12] ^= 0xff;
    gz[13] ^= 0xff;
    const err = await failure(lines(gz));
    expect(err).to.be.instanceOf(BadRecordError);
  });

  it("rejects Parquet content clearly", async () => {
    const err = await failure(lines(Buffer.from("PAR1\x00\x00rest")));
    expect(err).to.be.instanceOf(BadRecordError);
    expect(err.message).to.match(/Parquet.*not supported/);
  });

  it("propagates a read error of the source (not a BadRecordError: S3 failed, the data may be fine)", async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield gzipSync("a\n".repeat(10)).subarray(0, 20);
      throw new Error("socket hang up");
    }
    const err = await failure((async () => {
      for await (const _ of splitLines(decompress(broken(), "s3://b/k"))) void _;
    })());
    expect(err).not.to.be.instanceOf(BadRecordError);
    expect(err.message).to.contain("socket hang up");
  });

  it("stops reading the source when the consumer stops early", async () => {
    let returned = false;
    let produced = 0;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        return {
          next: async () => ({ done: false, value: Buffer.from(`line ${produced++}\n`) }),
          return: async () => {
            returned = true;
            return { done: true, value: undefined };
          },
        };
      },
    };
    for await (const batch of splitLines(decompress(source, "s3://b/k"))) {
      if (batch.length > 0) break;
    }
    expect(returned).to.equal(true);
    expect(produced).to.be.lessThan(10);
  });

  it("gives every line of a large random text exactly once, whatever the chunk size (chunks decoded in slices)", async function () {
    const random = seededRandom(64);
    const parts: string[] = ["\ufeff"];
    const expectedLines: string[] = [];
    const words = ["GET", "/api/v1", "é", "€", "😀", "日本", "x".repeat(50), ""];
    let length = 0;
    while (length < 1_500_000) {
      // Mostly short lines, some empty, a few longer than a decoding slice (64 KB); many begin
      // with U+FEFF, which only the object's very first line loses.
      const longLine = random() < 0.002;
      let line = random() < 0.3 ? "\ufeff" : "";
      const count = longLine ? 3000 : Math.floor(random() * 12);
      for (let i = 0; i < count; i++) line += words[Math.floor(random() * words.length)] + (longLine ? "-".repeat(30) : " ");
      parts.push(line, random() < 0.3 ? "\r\n" : "\n");
      length += line.length + 2;
      if (line !== "") expectedLines.push(line);
    }
    expect(expectedLines.some((l) => Buffer.byteLength(l) > 64 * 1024), "some lines are longer than a slice").to.equal(true);
    const bytes = Buffer.from(parts.join(""));
    for (const size of [bytes.length, 256 * 1024, 65_537, 4096]) {
      expect(await lines(bytes, size), `plain, chunk ${size}`).to.deep.equal(expectedLines);
    }
    expect(await lines(gzipSync(bytes), 100_000), "gzip").to.deep.equal(expectedLines);
  });

  it("never holds more than MAX_LINE_SIZE + 1 bytes of a 20 MB object without a newline", async function () {
    this.timeout(30_000);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const total = 20 * 1024 * 1024;
    let sent = 0;
    let sentWhenHandedOut = -1;
    async function* newlineFree(): AsyncGenerator<Uint8Array> {
      while (sent < total) {
        sent += chunk.length;
        yield chunk;
      }
      yield Buffer.from("\nnext\n");
    }
    const got: string[] = [];
    for await (const batch of splitLines(newlineFree())) {
      if (sentWhenHandedOut === -1) sentWhenHandedOut = sent;
      got.push(...batch);
    }
    expect(got.map((l) => l.length)).to.deep.equal([DEFAULT_MAX_LINE_SIZE + 1, 4]);
    // The head went out as soon as the limit was passed, not after buffering the whole line.
    expect(sentWhenHandedOut).to.be.at.most(DEFAULT_MAX_LINE_SIZE + 2 * chunk.length);
  });
});

describe("text decoding of payloads and object chunks", () => {
  const cases: [string, Buffer][] = [
    ["empty", Buffer.alloc(0)],
    ["ASCII with controls and DEL", Buffer.from("GET /x HTTP/1.1\t\x00\x1f\x7f\r\n")],
    ["two-, three- and four-byte characters", Buffer.from("ünïcödé € 😀 日本語")],
    ["one non-ASCII byte at the very end of a long ASCII run", Buffer.concat([Buffer.alloc(100_000, 0x61), Buffer.from("é")])],
    ["invalid UTF-8 (lone continuation, truncated sequence, overlong)", Buffer.from([0x61, 0x80, 0x62, 0xe2, 0x82, 0x63, 0xc0, 0xaf])],
    ["a byte-order mark", Buffer.from("\ufeff{\"a\":1}")],
  ];
  for (const [name, bytes] of cases) {
    it(`decodes ${name} exactly as Node's UTF-8 decoder does`, () => {
      expect(decodeText(bytes)).to.equal(bytes.toString("utf8"));
    });
  }
});
