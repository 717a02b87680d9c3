/**
 * The byte-level layers under every S3 format: gzip detection and streaming gunzip, and the line
 * splitter (CRLF, BOM, chunk boundaries inside lines and inside UTF-8 sequences, huge lines).
 */
import { expect } from "chai";
import { gzipSync } from "node:zlib";
import { decompress } from "../handler/parsers/decompress";
import { DEFAULT_MAX_LINE_SIZE, limitLine } from "../handler/line-size";
import { splitLines, splitLinesInPieces } from "../handler/parsers/lines";
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

describe("S3 byte stream: MAX_LINE_SIZE_ACTION=split reads a long line out in pieces", () => {
  /** Each line as [text, piece index]: 0 for a line or the first piece of a long line. */
  async function pieces(bytes: Uint8Array, chunkSize: number, maxLineBytes: number): Promise<[string, number][]> {
    const out: [string, number][] = [];
    for await (const batch of splitLinesInPieces(decompress(chunked(bytes, chunkSize), "s3://b/k"), maxLineBytes)) {
      for (const line of batch) out.push(typeof line === "string" ? [line, 0] : [line.text, line.index]);
    }
    return out;
  }
  const split = (line: string, max: number): [string, number][] => {
    const parts = limitLine(line, max, "split");
    return typeof parts === "string" ? [[parts, 0]] : (parts as string[]).map((p, i): [string, number] => [p, i]);
  };

  // [name, object text, expected [text, piece] at a 10-byte limit]
  const cases: [string, string, [string, number][]][] = [
    ["a line exactly the limit is one line", "exactly10!\nnext\n", [["exactly10!", 0], ["next", 0]]],
    ["a line exactly the limit before CRLF is one line", "exactly10!\r\nnext\r\n", [["exactly10!", 0], ["next", 0]]],
    ["one byte over: the byte is a second piece", "0123456789X\n", [["0123456789", 0], ["X", 1]]],
    ["exactly twice the limit: two pieces, no empty third", "0123456789abcdefghij\n", [["0123456789", 0], ["abcdefghij", 1]]],
    ["two-byte characters on the boundary", "ééééééé\n", [["ééééé", 0], ["éé", 1]]],
    ["three-byte characters on the boundary", "€€€€€€€\n", [["€€€", 0], ["€€€", 1], ["€", 2]]],
    ["four-byte characters on the boundary", "a😀😀😀\n", [["a😀😀", 0], ["😀", 1]]],
    ["empty lines around a long one are skipped, as ever", "\n\n0123456789abc\n\r\n\nz\n", [["0123456789", 0], ["abc", 1], ["z", 0]]],
    ["a byte-order mark is not part of the first line's pieces", "\ufeff0123456789abc\n", [["0123456789", 0], ["abc", 1]]],
    ["a long last line without a newline", "a\n0123456789abcdefghijk", [["a", 0], ["0123456789", 0], ["abcdefghij", 1], ["k", 2]]],
    ["consecutive long lines are numbered apart", "0123456789a\n0123456789b\n", [["0123456789", 0], ["a", 1], ["0123456789", 0], ["b", 1]]],
  ];
  for (const [name, text, expected] of cases) {
    it(`${name}, whatever the chunks`, async () => {
      for (const size of [1, 2, 3, 5, 7, 10, 11, 12, 64, 1000]) {
        expect(await pieces(Buffer.from(text), size, 10), `chunk ${size}`).to.deep.equal(expected);
      }
      expect(await pieces(gzipSync(text), 7, 10), "gzip").to.deep.equal(expected);
    });
  }

  it("cuts where limitLine cuts the whole line, for lines of random characters and every chunking", async () => {
    const rnd = seededRandom(11);
    const alphabet = ["a", "b", " ", "é", "ß", "€", "中", "😀", "\t"];
    const lines = Array.from({ length: 40 }, () => Array.from({ length: Math.floor(rnd() * 60) + 1 }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join(""));
    const expected = lines.flatMap((line) => split(line, 16));
    for (const size of [1, 3, 16, 17, 100, 4096]) {
      expect(await pieces(Buffer.from(lines.join("\n") + "\n"), size, 16), `chunk ${size}`).to.deep.equal(expected);
    }
  });

  it("hands out a 20 MB line without a newline in pieces as it is read, never holding it whole", async function () {
    this.timeout(30_000);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const total = 20 * 1024 * 1024;
    let sent = 0;
    let most = 0;
    async function* newlineFree(): AsyncGenerator<Uint8Array> {
      while (sent < total) {
        sent += chunk.length;
        yield chunk;
      }
      yield Buffer.from("\nnext\n");
    }
    let received = 0;
    const sizes = new Map<number, number>();
    for await (const batch of splitLinesInPieces(newlineFree())) {
      for (const line of batch) {
        const text = typeof line === "string" ? line : line.text;
        received += text.length;
        sizes.set(text.length, (sizes.get(text.length) ?? 0) + 1);
      }
      // Bytes read but not yet handed out: at most one piece and one chunk.
      most = Math.max(most, Math.min(sent, total) - received);
    }
    expect(received).to.equal(total + 4);
    expect(Object.fromEntries(sizes)).to.deep.equal({ [DEFAULT_MAX_LINE_SIZE]: total / DEFAULT_MAX_LINE_SIZE, 4: 1 });
    expect(most).to.be.at.most(DEFAULT_MAX_LINE_SIZE + chunk.length);
  });
});
