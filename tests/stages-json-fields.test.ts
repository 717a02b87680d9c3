import { expect } from "chai";
import { readTopLevelFields } from "../handler/stages/json-fields";
import { seededRandom } from "../bench/support";

/**
 * Nested values go through this in both readings (the json stage passes goJson; what it makes of
 * a value is tested with the stage). (json.ts is not imported here: loaded before the stage
 * registry, its import cycle through config.ts would leave the registry without it.)
 */
const nestedText = (value: object): string => JSON.stringify(value);

/** What the json stage extracted before readTopLevelFields: JSON.parse, then each field if the object has it (nested values through nestedText), else null. */
function reference(text: string, fields: readonly string[]): unknown[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const data = parsed as Record<string, unknown>;
  return fields.map((field) => {
    if (!Object.hasOwn(data, field)) return null;
    const value = data[field];
    return typeof value === "object" && value !== null ? nestedText(value) : value;
  });
}

/** readTopLevelFields' answer: the values, or undefined when it declined. */
function fastRead(text: string, fields: readonly string[]): unknown[] | undefined {
  const values: unknown[] = ["stale", "stale"];
  return readTopLevelFields(text, fields, values, nestedText) ? values.slice(0, fields.length) : undefined;
}

/** Same values, -0 told from 0 (Object.is). */
function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, i) => Object.is(value, b[i]));
}

const FIELDS = ["level", "msg", "n", "a", "o", "", "é", "__proto__", "constructor", "level"];

describe("json stage: top-level fields read without JSON.parse", () => {
  // [line, whether the reading answers (true) or leaves it to JSON.parse (false)]
  const LINES: Array<[string, boolean]> = [
    ['{"level":"info","msg":"hello","n":12}', true],
    ['  {  "level" : "spaced"  ,  "n" : -0  }  ', true],
    ["{}", true],
    [" { } ", true],
    ['{"level":"first","level":"last wins"}', true],
    ['{"n":-0.0,"a":1e400,"o":-1e-400,"msg":12345678901234567890,"level":9007199254740993}', true],
    ['{"n":0.1,"a":1E+2,"o":2e-3,"msg":-123.456e7}', true],
    ['{"a":[],"o":{},"n":[1,[2,[3,{"x":[]}]]],"msg":{"z":{"y":null},"a":[true,false]}}', true],
    ['{"o":{"b":1,"a":{"d":"<&>","c":[]}},"level":null,"msg":true,"n":false}', true],
    ['{"":"empty key","é":"accent","__proto__":{"x":1},"constructor":"own"}', true],
    ['{"level":"\ud83d\ude00 emoji","msg":"lone \ud800 surrogate","n":"\u2028"}', true],
    ['{"level":"with / slash and \' quote"}', true],
    // Left to JSON.parse: escapes, control characters (also as whitespace), anything not an object.
    ['{"level":"a\\"b"}', false],
    ['{"le\\u0076el":"escaped key"}', false],
    ['{"msg":"tab\there"}', false],
    ['{\n"level":"newline between tokens"}', false],
    ['{"level":"info"}\n', false],
    ["\ufeff{}", false],
    ["[1,2]", false],
    ['"text"', false],
    ["12", false],
    ["", false],
    ["plain text line", false],
    // Not JSON at all: declined (JSON.parse refuses them too).
    ["{", false],
    ['{"level"}', false],
    ['{"level":}', false],
    ['{"level":"info",}', false],
    ['{"level":"info" "msg":"x"}', false],
    ['{"level":"info"}}', false],
    ['{"level":"info"} x', false],
    ['{"level":"unterminated}', false],
    ['{"n":01}', false],
    ['{"n":1.}', false],
    ['{"n":.5}', false],
    ['{"n":+1}', false],
    ['{"n":-}', false],
    ['{"n":1e}', false],
    ['{"n":1e+}', false],
    ['{"n":0x10}', false],
    ['{"n":NaN}', false],
    ['{"n":Infinity}', false],
    ['{"n":tru}', false],
    ['{"n":truex}', false],
    ['{"n":nul}', false],
    ['{"n":undefined}', false],
    ['{"a":[1,]}', false],
    ['{"a":[,1]}', false],
    ['{"a":[1 2]}', false],
    ['{"a":{"b"}}', false],
    ['{"a":{"b":1,}}', false],
    ['{"a":{"b":1]}', false],
    ['{"a":[1}', false],
    ['{"a":[[[]]}', false],
    ["{'level':'single quotes'}", false],
    ["{level:1}", false],
    [`{"a":${"[".repeat(100)}${"]".repeat(100)}}`, false],
  ];

  for (const [line, answers] of LINES) {
    it(`${answers ? "reads" : "leaves to JSON.parse"} ${JSON.stringify(line).slice(0, 90)}`, () => {
      const fast = fastRead(line, FIELDS);
      expect(fast !== undefined, "answered").to.equal(answers);
      if (fast === undefined) return;
      const expected = reference(line, FIELDS);
      expect(expected, "JSON.parse accepts it as an object").to.not.equal(undefined);
      expect(sameValues(fast, expected!), `${JSON.stringify(fast)} against ${JSON.stringify(expected)}`).to.equal(true);
    });
  }

  it("nesting up to its depth limit is read, deeper is left to JSON.parse", () => {
    for (const depth of [1, 10, 62, 63, 64, 65, 200]) {
      const line = `{"a":${"[".repeat(depth)}1${"]".repeat(depth)},"level":"x"}`;
      const fast = fastRead(line, ["a", "level"]);
      if (fast !== undefined) expect(sameValues(fast, reference(line, ["a", "level"])!), `depth ${depth}`).to.equal(true);
      expect(fast !== undefined, `depth ${depth}`).to.equal(depth <= 64);
    }
  });

  it("every JSON number reads as JSON.parse reads it (10,000 seeded numbers of every form)", () => {
    const rnd = seededRandom(7);
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join("");
    for (let i = 0; i < 10_000; i++) {
      const int = rnd() < 0.2 ? "0" : `${1 + Math.floor(rnd() * 9)}${digits(Math.floor(rnd() * 25))}`;
      const frac = rnd() < 0.5 ? "" : `.${digits(1 + Math.floor(rnd() * 20))}`;
      const exp = rnd() < 0.5 ? "" : `${rnd() < 0.5 ? "e" : "E"}${["", "+", "-"][Math.floor(rnd() * 3)]}${digits(1 + Math.floor(rnd() * 3))}`;
      const text = `${rnd() < 0.3 ? "-" : ""}${int}${frac}${exp}`;
      const line = `{"n":${text}}`;
      const fast = fastRead(line, ["n"]);
      expect(fast, text).to.not.equal(undefined);
      expect(Object.is(fast![0], JSON.parse(line).n), text).to.equal(true);
    }
  });

  it("on 30,000 seeded mutations of JSON lines, it answers only for objects JSON.parse reads, with JSON.parse's values", () => {
    const rnd = seededRandom(12);
    const bases = LINES.filter(([, answers]) => answers).map(([line]) => line);
    const pieces = ['"', "{", "}", "[", "]", ":", ",", " ", "\\", "\t", "0", "-", ".", "e", "1", "a", "true", "null", '"level"', '"x":1', "\u0001", "\ud800"];
    let answered = 0;
    for (let i = 0; i < 30_000; i++) {
      let line = bases[Math.floor(rnd() * bases.length)];
      for (let edits = 1 + Math.floor(rnd() * 3); edits > 0; edits--) {
        const at = Math.floor(rnd() * (line.length + 1));
        const piece = pieces[Math.floor(rnd() * pieces.length)];
        const op = rnd();
        if (op < 0.4) line = line.slice(0, at) + piece + line.slice(at);
        else if (op < 0.7) line = line.slice(0, at) + line.slice(at + 1);
        else line = line.slice(0, at) + piece + line.slice(at + 1);
      }
      const fast = fastRead(line, FIELDS);
      if (fast === undefined) continue;
      answered++;
      const expected = reference(line, FIELDS);
      expect(expected, `JSON.parse refuses ${JSON.stringify(line)}`).to.not.equal(undefined);
      expect(sameValues(fast, expected!), JSON.stringify(line)).to.equal(true);
    }
    // The mutations must exercise the reading, not only its refusals.
    expect(answered).to.be.greaterThan(3_000);
  });
});
