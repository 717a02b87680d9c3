import { expect } from "chai";
import {
  compareCodePoints,
  formatLabels,
  isValidLabelName,
  isValidLabelValue,
  quoteGo,
  sanitizeLabelName,
} from "../handler/labels/names";

/**
 * An independent statement of Go's strconv.Quote: `"` and `\` backslashed, the C escapes, then
 * everything Go's IsPrint rejects (general categories C* and Z*, except the ASCII space) as
 * \xHH below 0x80, \uHHHH below 0x10000, \UHHHHHHHH above. A lone surrogate is U+FFFD on the wire.
 */
function referenceGoQuote(s: string): string {
  const named: Record<string, string> = {
    '"': '\\"', "\\": "\\\\", "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
  };
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp >= 0xd800 && cp <= 0xdfff) out += "\ufffd";
    else if (named[ch] !== undefined) out += named[ch];
    else if (ch === " " || !/[\p{C}\p{Z}]/u.test(ch)) out += ch;
    else if (cp < 0x80) out += "\\x" + cp.toString(16).padStart(2, "0");
    else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += "\\U" + cp.toString(16).padStart(8, "0");
  }
  return out + '"';
}

/** Go's strconv.Unquote for the escapes quoteGo writes: proves Loki reads the value back exactly. */
function goUnquote(quoted: string): string {
  const body = quoted.slice(1, -1);
  const simple: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", '"': '"' };
  return body.replace(/\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8})|(.))/gs, (_m, x, u, U, c: string) =>
    x || u || U ? String.fromCodePoint(parseInt(x || u || U, 16)) : simple[c],
  );
}

describe("label names and values", () => {
  const names: Array<[string, boolean]> = [
    ["job", true], ["_", true], ["__aws_log_type", true], ["a1_B2", true], ["Z", true],
    ["", false], ["1abc", false], ["a-b", false], ["a.b", false], ["a b", false], ["é", false], ["team:owner", false],
  ];
  for (const [name, valid] of names) {
    it(`says ${JSON.stringify(name)} is ${valid ? "" : "not "}a valid label name`, () => {
      expect(isValidLabelName(name)).to.equal(valid);
    });
  }

  const values: Array<[string, string, boolean]> = [
    ["plain text", "a b c", true],
    ["an empty value", "", true],
    ["a surrogate pair (emoji)", "😀", true],
    ["a lone high surrogate", "a\ud800b", false],
    ["a lone low surrogate", "\udc00", false],
    ["control characters", "\x00\n", true],
  ];
  for (const [what, value, valid] of values) {
    it(`says a value with ${what} is ${valid ? "" : "not "}valid`, () => {
      expect(isValidLabelValue(value)).to.equal(valid);
    });
  }
});

describe("sanitizeLabelName", () => {
  const cases: Array<[string, string]> = [
    ["team:owner", "team_owner"],
    ["aws:cloudformation:stack-name", "aws_cloudformation_stack_name"],
    ["already_valid", "already_valid"],
    ["1st", "_1st"],
    ["9", "_9"],
    ["", "_"],
    ["é", "_"],
    ["😀x", "_x"],
    ["a.b/c d", "a_b_c_d"],
  ];
  for (const [input, expected] of cases) {
    it(`turns ${JSON.stringify(input)} into ${JSON.stringify(expected)}`, () => {
      const out = sanitizeLabelName(input);
      expect(out).to.equal(expected);
      expect(isValidLabelName(out)).to.equal(true);
    });
  }
});

describe("compareCodePoints", () => {
  it("orders as UTF-8 bytes do, even where UTF-16 code units disagree", () => {
    // U+FFFD is EF BF BD in UTF-8, U+1F600 is F0 9F 98 80: the emoji sorts last.
    expect(compareCodePoints("\ufffd", "😀")).to.be.lessThan(0);
    expect("\ufffd" < "😀").to.equal(false); // the naive comparison gets it wrong
    expect(["b", "a", "ab", "B", "_"].sort(compareCodePoints)).to.deep.equal(["B", "_", "a", "ab", "b"]);
    expect(compareCodePoints("same", "same")).to.equal(0);
  });
});

describe("formatLabels", () => {
  it("writes {} for an empty set", () => {
    expect(formatLabels({})).to.equal("{}");
  });

  it("sorts names in byte order and separates pairs with a comma and a space", () => {
    expect(formatLabels({ b: "2", a: "1", _x: "3", B: "4" })).to.equal('{B="4", _x="3", a="1", b="2"}');
  });

  it("does not depend on the insertion order of the object", () => {
    expect(formatLabels({ z: "1", y: "2", x: "3" })).to.equal(formatLabels({ x: "3", y: "2", z: "1" }));
  });

  it("leaves __tenant_id__ out, as the Go lambda-promtail does", () => {
    expect(formatLabels({ __tenant_id__: "team-a", app: "x" })).to.equal('{app="x"}');
    expect(formatLabels({ __tenant_id__: "team-a" })).to.equal("{}");
  });

  // Expected strings are what Go's fmt %q prints for the same value.
  const escapes: Array<[string, string, string]> = [
    ["plain ASCII", "hello world", '"hello world"'],
    ["a double quote", 'say "hi"', '"say \\"hi\\""'],
    ["a backslash", "C:\\temp", '"C:\\\\temp"'],
    ["newline, tab, carriage return", "a\nb\tc\rd", '"a\\nb\\tc\\rd"'],
    ["bell, backspace, vertical tab, form feed", "\x07\b\v\f", '"\\a\\b\\v\\f"'],
    ["NUL and other C0 controls", "\x00\x1f", '"\\x00\\x1f"'],
    ["DEL", "\x7f", '"\\x7f"'],
    ["a C1 control (NEL)", "\u0085", '"\\u0085"'],
    ["a no-break space", "a\u00a0b", '"a\\u00a0b"'],
    ["an ideographic space", "\u3000", '"\\u3000"'],
    ["a zero-width space and a BOM (format characters)", "\u200b\ufeff", '"\\u200b\\ufeff"'],
    ["a line separator", "\u2028", '"\\u2028"'],
    ["a private-use character", "\ue000", '"\\ue000"'],
    ["an astral format character", "\u{e0001}", '"\\U000e0001"'],
    ["an unassigned astral code point", "\u{10ffff}", '"\\U0010ffff"'],
    ["accented letters and CJK, kept as is", "café 日本", '"café 日本"'],
    ["an emoji, kept as is", "😀", '"😀"'],
    ["a combining mark, kept as is", "e\u0301", '"e\u0301"'],
    ["a lone surrogate, sent as U+FFFD", "a\ud800", '"a\ufffd"'],
  ];
  for (const [what, value, expected] of escapes) {
    it(`quotes ${what} as Go's %q does`, () => {
      expect(formatLabels({ v: value })).to.equal(`{v=${expected}}`);
      expect(quoteGo(value)).to.equal(referenceGoQuote(value));
    });
  }

  it("agrees with an independent statement of Go's quoting on random tricky strings, and reads back exactly", () => {
    const pool = ['"', "\\", "\n", "\t", "\r", "\x00", "\x1b", "\x7f", "\u0085", "\u00a0", "\u00ad", "é", "日", "😀", "\u200b", "\u2028", "\ue000", "\u{e0001}", " ", "a", "Z", "'", "`", "$"];
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 500; i++) {
      let value = "";
      const length = random(12);
      for (let j = 0; j < length; j++) {
        value += random(4) === 0 ? String.fromCodePoint(random(0x30000)).replace(/[\ud800-\udfff]/g, "x") : pool[random(pool.length)];
      }
      const quoted = quoteGo(value);
      expect(quoted, JSON.stringify(value)).to.equal(referenceGoQuote(value));
      expect(goUnquote(quoted), JSON.stringify(value)).to.equal(value);
    }
  });
});
