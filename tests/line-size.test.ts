/**
 * MAX_LINE_SIZE's cut (handler/line-size.ts): Loki's limit is in UTF-8 bytes, and a truncated
 * line ends on a whole character, so it is valid UTF-8 that Loki stores.
 */
import { expect } from "chai";
import { limitLine } from "../handler/line-size";

describe("MAX_LINE_SIZE: limitLine", () => {
  const cases: [string, string, number, string][] = [
    ["a line within the limit is itself", "hello", 10, "hello"],
    ["an empty line is itself", "", 1, ""],
    ["exactly the limit in bytes is itself", "a".repeat(10), 10, "a".repeat(10)],
    ["one byte over is cut to the limit", "a".repeat(11), 10, "a".repeat(10)],
    ["two-byte characters: cut before the one crossing the limit", "é".repeat(6), 11, "é".repeat(5)],
    ["three-byte characters within the length but over in bytes", "€".repeat(4), 10, "€".repeat(3)],
    ["a four-byte character (surrogate pair) is never split", "abc😀", 6, "abc"],
    ["a surrogate pair at the limit in code units is kept whole or dropped whole", "a".repeat(8) + "😀" + "b", 12, "a".repeat(8) + "😀"],
    ["a long line of mixed characters", "x€".repeat(1000), 9, "x€x€x"],
    ["a long line cut inside a character", "x€".repeat(1000), 10, "x€x€x"],
  ];
  for (const [name, line, max, expected] of cases) {
    it(`truncate: ${name}`, () => {
      const got = limitLine(line, max, "truncate");
      expect(got).to.equal(expected);
      expect(Buffer.byteLength(got ?? "")).to.be.at.most(max);
    });
    it(`drop: ${name}`, () => {
      expect(limitLine(line, max, "drop")).to.equal(Buffer.byteLength(line) <= max ? line : undefined);
    });
  }

  it("returns the very same string when nothing is cut (callers compare to count)", () => {
    const line = "é".repeat(100);
    expect(limitLine(line, 200, "truncate")).to.equal(line);
  });
});
