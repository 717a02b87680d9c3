/**
 * MAX_LINE_SIZE's cut (handler/line-size.ts): Loki's limit is in UTF-8 bytes, and a truncated
 * line ends on a whole character, so it is valid UTF-8 that Loki stores.
 */
import { expect } from "chai";
import { limitCountedLine, limitLine } from "../handler/line-size";

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
      const got = limitLine(line, max, "truncate") as string;
      expect(got).to.equal(expected);
      expect(Buffer.byteLength(got)).to.be.at.most(max);
    });
    it(`drop: ${name}`, () => {
      expect(limitLine(line, max, "drop")).to.equal(Buffer.byteLength(line) <= max ? line : undefined);
    });
    it(`split: ${name}: the first piece is what truncate keeps, and the pieces join into the line`, () => {
      const got = limitLine(line, max, "split");
      if (Buffer.byteLength(line) <= max) {
        expect(got).to.equal(line);
        return;
      }
      expect(got).to.be.an("array");
      const pieces = got as string[];
      expect(pieces[0]).to.equal(expected);
      expect(pieces.join("")).to.equal(line);
    });
  }

  it("returns the very same string when nothing is cut (callers compare to count)", () => {
    const line = "é".repeat(100);
    expect(limitLine(line, 200, "truncate")).to.equal(line);
  });
});

describe("MAX_LINE_SIZE_ACTION=split: limitLine's pieces", () => {
  // [name, line, limit in bytes, expected pieces]
  const cases: [string, string, number, string[]][] = [
    ["one byte over: a full piece and a one-byte piece", "a".repeat(11), 10, ["a".repeat(10), "a"]],
    ["exactly twice the limit: two full pieces, no empty third", "a".repeat(20), 10, ["a".repeat(10), "a".repeat(10)]],
    ["two-byte characters on the boundary: the character crossing it starts the next piece", "é".repeat(6), 11, ["é".repeat(5), "é"]],
    ["three-byte characters", "€".repeat(8), 10, ["€€€", "€€€", "€€"]],
    ["a four-byte character straddling the boundary moves whole", "abcde😀fgh", 6, ["abcde", "😀fg", "h"]],
    ["four-byte characters only", "😀".repeat(5), 9, ["😀😀", "😀😀", "😀"]],
    ["mixed widths", "x€".repeat(5), 5, ["x€x", "€x", "€x", "€x", "€"]],
    ["a line of newlines and tabs is content like any other", "\t\n".repeat(6), 5, ["\t\n\t\n\t", "\n\t\n\t\n", "\t\n"]],
  ];
  for (const [name, line, max, expected] of cases) {
    it(name, () => {
      const pieces = limitLine(line, max, "split") as string[];
      expect(pieces).to.deep.equal(expected);
      for (const piece of pieces) expect(Buffer.byteLength(piece)).to.be.within(1, max);
      expect(pieces.join("")).to.equal(line);
    });
  }

  it("an empty line and a line of exactly the limit are themselves, not pieces", () => {
    expect(limitLine("", 10, "split")).to.equal("");
    const exact = "€".repeat(3) + "a";
    expect(limitLine(exact, 10, "split")).to.equal(exact);
  });

  it("a 1 MB line of every character width splits into full pieces that rejoin into it", () => {
    const line = "a\u00e9\u20ac\u{1f600}".repeat(100_000);
    const pieces = limitLine(line, 262144, "split") as string[];
    expect(pieces.join("")).to.equal(line);
    // Each piece is as long as whole characters allow: at most 3 bytes short of the limit.
    for (const piece of pieces.slice(0, -1)) expect(Buffer.byteLength(piece)).to.be.within(262144 - 3, 262144);
  });
});

describe("MAX_LINE_SIZE: limitCountedLine counts what it did to each line", () => {
  const cases: [action: "truncate" | "drop" | "split", line: string, expected: string | string[] | undefined, counted: keyof typeof zero | undefined][] = [
    ["truncate", "abcd", "abcd", undefined],
    ["truncate", "abcdef", "abcd", "truncatedLines"],
    ["drop", "abcdef", undefined, "droppedLongLines"],
    ["split", "abcdef", ["abcd", "ef"], "splitLines"],
    ["split", "", "", undefined],
  ];
  const zero = { truncatedLines: 0, droppedLongLines: 0, splitLines: 0 };
  for (const [action, line, expected, counted] of cases) {
    it(`${action} ${JSON.stringify(line)} with 4 bytes allowed: ${JSON.stringify(expected)}, counted as ${counted ?? "nothing"}`, () => {
      const counts = { ...zero };
      expect(limitCountedLine(line, 4, action, counts)).to.deep.equal(expected);
      expect(counts).to.deep.equal(counted === undefined ? zero : { ...zero, [counted]: 1 });
    });
  }
});
