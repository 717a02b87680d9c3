import { expect } from "chai";
import { uncompressSync } from "snappy";
import * as snappyjs from "snappyjs";
import { compress } from "../handler/loki/encode";
import { seededRandom } from "./support/random";
import { chooseCompressor, lambdaSnappyBinding, snappyCompressor, SnappyImplementation, useSnappyImplementation } from "../handler/loki/snappy";

/** Inputs that exercise literals, long copies, incompressible runs and the 64 KB block boundary. */
function inputs(): Buffer[] {
  const random = seededRandom(7);
  const noise = Buffer.alloc(300_000);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(random() * 256);
  const lines = Array.from({ length: 5000 }, (_, i) => `{"level":"info","requestId":"${(i * 2654435761 >>> 0).toString(16)}","latencyMs":${i % 977}}`).join("\n");
  return [Buffer.alloc(0), Buffer.from("a"), Buffer.from("log line ".repeat(50_000)), noise, Buffer.from(lines), Buffer.from("ü€😀 ".repeat(20_000))];
}

/** Decodes with the implementation that did not compress, so neither checks itself. */
function uncompressWithTheOther(implementation: SnappyImplementation, body: Uint8Array): Buffer {
  return implementation === "native" ? Buffer.from(snappyjs.uncompress(Buffer.from(body))) : uncompressSync(Buffer.from(body), { asBuffer: true }) as Buffer;
}

describe("loki snappy: block compression", () => {
  after(() => useSnappyImplementation(undefined));

  for (const implementation of ["native", "snappyjs"] as const) {
    describe(implementation, () => {
      before(() => useSnappyImplementation(implementation));

      it("compresses to the block format the other implementation decodes", () => {
        for (const input of inputs()) {
          const compressed = compress(input);
          expect(uncompressWithTheOther(implementation, compressed).equals(input), `${input.length} bytes`).to.equal(true);
          // The framed format would start with the stream identifier chunk ff 06 00 00 "sNaPpY".
          expect(compressed[0]).to.not.equal(0xff);
        }
      });

      it("accepts a Uint8Array view into a larger buffer", () => {
        const backing = new Uint8Array(100).fill(65);
        expect(uncompressWithTheOther(implementation, compress(backing.subarray(10, 20))).toString()).to.equal("A".repeat(10));
      });

      it("uncompresses what the other implementation compressed, from a view into a larger buffer too", () => {
        const other = implementation === "native" ? (input: Buffer) => snappyjs.compress(input) : (input: Buffer) => useSnappyImplementation("native").compress(input);
        for (const input of inputs()) {
          const compressed = other(input);
          useSnappyImplementation(implementation);
          expect(snappyCompressor().uncompress(compressed).equals(input), `${input.length} bytes`).to.equal(true);
          const backing = new Uint8Array(compressed.length + 20);
          backing.set(compressed, 10);
          expect(snappyCompressor().uncompress(backing.subarray(10, 10 + compressed.length)).equals(input), `${input.length} bytes, in a view`).to.equal(true);
        }
      });

      it("returns a body that stays valid after later compressions", () => {
        const first = compress(Buffer.from("first body ".repeat(1000)));
        const copy = Buffer.from(first);
        compress(Buffer.from("second body ".repeat(1000)));
        expect(Buffer.from(first).equals(copy)).to.equal(true);
      });
    });
  }

  describe("choosing the implementation", () => {
    it("uses the native binding when it is installed (it is, for this machine, through npm ci)", () => {
      useSnappyImplementation(undefined);
      expect(snappyCompressor().implementation).to.equal("native");
      expect(snappyCompressor().nativeLoadError).to.equal(undefined);
    });

    it("falls back to snappyjs and keeps every candidate's reason when none loads", () => {
      const missing = (name: string) => () => {
        throw new Error(`Cannot find module '${name}'\nRequire stack: ...`);
      };
      const chosen = chooseCompressor([missing("@napi-rs/snappy-linux-arm64-gnu"), missing("snappy")]);
      expect(chosen.implementation).to.equal("snappyjs");
      expect(chosen.nativeLoadError).to.equal("Cannot find module '@napi-rs/snappy-linux-arm64-gnu'; Cannot find module 'snappy'");
      const body = chosen.compress(Buffer.from("still compresses"));
      expect(uncompressWithTheOther("snappyjs", body).toString()).to.equal("still compresses");
    });

    it("skips a module that is not a snappy binding, or one that cannot uncompress (a 413 split needs it)", () => {
      const binding = { compressSync: () => Buffer.from("x"), uncompressSync: () => Buffer.from("y") };
      expect(chooseCompressor([() => ({}) as never, () => binding]).implementation).to.equal("native");
      const compressOnly = chooseCompressor([() => ({ compressSync: binding.compressSync }) as never]);
      expect(compressOnly.implementation).to.equal("snappyjs");
      expect(compressOnly.nativeLoadError).to.equal("module has no compressSync and uncompressSync");
    });

    it("names the binding package of each Lambda architecture", () => {
      expect(lambdaSnappyBinding("x86_64")).to.equal("@napi-rs/snappy-linux-x64-gnu");
      expect(lambdaSnappyBinding("arm64")).to.equal("@napi-rs/snappy-linux-arm64-gnu");
    });
  });
});
