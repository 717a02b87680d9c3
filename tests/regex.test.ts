import { expect } from "chai";
import { compileRelabelConfigs, relabel } from "../handler/labels/relabel";
import { literalPattern, Regex, RegexSyntaxError } from "../handler/regex";

/**
 * handler/regex.ts: Go RE2 syntax and semantics, linear-time matching. The tables come from Go's
 * regexp/syntax documentation and error strings (what Prometheus and Promtail accept and reject).
 */
describe("regex: Go RE2 syntax and semantics", () => {
  /** [pattern, inputs it must fully match, inputs it must not] */
  const matching: Array<[string, string, string[], string[]]> = [
    ["named groups (?P<name>…)", "(?P<name>a+)b", ["aab"], ["b"]],
    ["(?i) for the whole pattern", "(?i)foo", ["FoO", "foo"], ["fo"]],
    ["(?i) with the Kelvin sign folding to k", "(?i)k", ["k", "K", "\u212a"], ["x"]],
    [". excludes only \\n (not \\r)", "a.b", ["a\rb", "a\u2028b", "axb"], ["a\nb"]],
    [". matches a whole astral character", ".", ["😀"], ["ab"]],
    ["(?s) lets . match \\n", "(?s)a.b", ["a\nb"], []],
    ["scoped (?s:…)", "(?s:a.)b", ["a\nb"], []],
    ["(?-s) after (?s)", "(?s)a.(?-s)b.", ["a\nbx"], ["a\nb\n"]],
    ["POSIX [[:alpha:]]", "[[:alpha:]]+", ["abcXYZ"], ["ab1"]],
    ["negated POSIX [[:^digit:]]", "[[:^digit:]]+", ["abc"], ["a1"]],
    ["POSIX classes mixed with ranges", "[[:digit:]a-c_]+", ["1a_c"], ["d"]],
    ["\\pL", "\\pL+", ["héllo", "日本"], ["a1"]],
    ["\\p{Greek}", "\\p{Greek}+", ["αβγ"], ["abc"]],
    ["\\PL and \\p{^Greek}", "\\PL\\p{^Greek}", ["1a"], ["aa", "1α"]],
    // Go's \p{C} also leaves out unassigned code points (U+0378); re2js's tables include them (README).
    ["\\p{C}", "\\p{C}", ["\u0000", "\u200b"], ["a"]],
    ["\\p{Any}", "\\p{Any}", ["\n", "😀"], []],
    ["\\Q…\\E quoting", "\\Qa.b*\\Ec", ["a.b*c"], ["axbc", "a.bbc"]],
    ["\\Q without \\E", "x\\Q(a)", ["x(a)"], ["a"]],
    ["a quantifier after \\Q…\\E applies to the last character", "\\Qab\\E*", ["a", "abbb"], ["abab"]],
    ["\\A and \\z", "\\Aab\\z", ["ab"], []],
    ["$ only at the end of the text (not before a final newline)", "a$\\n?", ["a"], ["a\n"]],
    ["Go's \\s excludes \\v and Unicode spaces", "\\s", [" ", "\t", "\n", "\f", "\r"], ["\v", "\u00a0"]],
    ["[[:space:]] includes \\v", "[[:space:]]", ["\v"], ["\u00a0"]],
    ["\\S inside a class", "[\\Sx]", ["\u00a0", "x"], [" "]],
    ["\\w and \\d are ASCII", "\\w\\d", ["a1"], ["é1", "a١"]],
    ["\\x{…}, \\xHH and octal escapes", "\\x{1F600}\\x41\\101\\012", ["😀AA\n"], []],
    ["escaped punctuation", "\\.\\-\\_\\#\\!", [".-_#!"], []],
    ["{ that is not a repeat is literal", "a{,2}b{x}", ["a{,2}b{x}"], ["aa"]],
    ["a leading-zero count is literal", "a{01}", ["a{01}"], ["a"]],
    ["counted repetition", "a{2,3}", ["aa", "aaa"], ["a", "aaaa"]],
    ["] first in a class is literal", "[]a]+", ["]a"], ["b"]],
    ["negated class with ] first", "[^]a]", ["b", "\n"], ["]", "a"]],
    ["- at the edges of a class and after a Perl class", "[-a][a-][\\d-z]", ["--5", "aa-", "a-z"], ["bbb"]],
    ["a literal [ inside a class", "[[a]", ["["], ["]"]],
    ["a quantified ^ (Go allows it)", "^*a", ["a"], []],
    ["a repeat after a flag group applies to the previous atom", "a(?i)*", ["", "aaa"], ["b"]],
    ["alternation inside the anchored group", "foo|bar", ["foo", "bar"], ["foobar"]],
    ["(?i) with case-less parts elsewhere", "123(?i)abc", ["123ABC"], ["ABC"]],
    ["(?i) with negated POSIX class folding ſ and K out", "(?i)[[:^alpha:]]", ["1", "-"], ["k", "\u212a", "\u017f"]],
    ["(?i) with \\W", "(?i)\\W", ["-"], ["\u017f", "\u212a"]],
    ["scoped (?i:…) (Go allows flags on part of a pattern)", "(?i:a)b", ["Ab", "ab"], ["AB"]],
    ["(?i) switched off again with (?-i)", "(?i)a(?-i)b", ["Ab"], ["AB"]],
    ["a capture name starting with a digit (Go allows it)", "(?P<1a>x)", ["x"], []],
    ["a negated Unicode class under (?i), which excludes the case folds too (Go)", "(?i)[\\P{Lu}x]", ["1", "x", "X"], ["a", "A"]],
    ["(?<name>…) named groups (Go 1.22)", "(?<n>a)b", ["ab"], []],
  ];
  for (const [what, pattern, yes, no] of matching) {
    it(`matches ${what}: ${pattern}`, () => {
      const re = Regex.compile(pattern);
      for (const s of yes) expect(re.matchesFully(s), `${pattern} should match ${JSON.stringify(s)}`).to.equal(true);
      for (const s of no) expect(re.matchesFully(s), `${pattern} should not match ${JSON.stringify(s)}`).to.equal(false);
    });
  }

  it("(?m) makes ^ and $ match at \\n only", () => {
    expect(Regex.compile("(?m)^b$").test("a\nb\nc")).to.equal(true);
    expect(Regex.compile("(?m)^b$").test("a\rb\rc")).to.equal(false);
    expect(Regex.compile("^b$").test("a\nb\nc")).to.equal(false);
  });

  it("(?U) swaps greedy and lazy quantifiers", () => {
    const groups = (pattern: string, full: boolean): Array<string | undefined> => {
      const re = Regex.compile(pattern);
      const m = full ? re.fullMatch("aaa") : re.find("aaa");
      return m === null ? [] : [m.group(1), m.group(2)];
    };
    expect(groups("(?U)(a+)(a*)", false)).to.deep.equal(["a", ""]);
    expect(groups("(?U)(a+)(a*)", true)).to.deep.equal(["a", "aa"]);
    expect(groups("(?U)(a+?)(a*)", false)).to.deep.equal(["aaa", ""]);
    expect(groups("(a+?)(a*)", false)).to.deep.equal(["a", "aa"]);
  });

  it("numbers capture groups in pattern order, named ones included", () => {
    const re = Regex.compile("(a)(?:b)(?P<c>c)(d)");
    const m = re.fullMatch("abcd");
    expect([m?.group(1), m?.group(2), m?.group(3), m?.named("c")]).to.deep.equal(["a", "c", "d", "c"]);
    expect(re.groupNames).to.deep.equal([undefined, undefined, "c", undefined]);
    expect(re.names).to.deep.equal(["c"]);
    expect(m?.named("nope")).to.equal(undefined);
  });

  it("finds the leftmost match with its offsets; a group that did not take part is undefined", () => {
    const m = Regex.compile("(?P<a>x)(y)?(?P<b>z)").find("--xz--");
    expect([m?.start, m?.end, m?.group(0), m?.group(2), m?.named("b")]).to.deep.equal([2, 4, "xz", undefined, "z"]);
    expect(Regex.compile("q").find("abc")).to.equal(null);
  });

  /** Go's ReplaceAllString results, including its rules for empty matches. */
  const replacements: Array<[string, string, string, string]> = [
    ["a*", "baaac", "X", "XbXcX"],
    ["x*", "abc", "-", "-a-b-c-"],
    ["a", "banana", "o", "bonono"],
    ["", "", "X", "X"],
    ["b+", "abbbc", "B", "aBc"],
    ["😀|", "a😀b", "_", "_a_b_"],
  ];
  for (const [pattern, input, by, expected] of replacements) {
    it(`replaces every match of ${pattern} in ${JSON.stringify(input)} as Go does: ${JSON.stringify(expected)}`, () => {
      expect(Regex.compile(pattern).replaceAll(input, () => by)).to.equal(expected);
    });
  }

  it("hands each replacement its groups", () => {
    const out = Regex.compile("(?P<k>\\w+)=(\\S+)").replaceAll("a=1 b=2", (m) => `${m.named("k")}:${m.group(2)}`);
    expect(out).to.equal("a:1 b:2");
  });

  /** Go's error strings, plus a hint where JavaScript users expect the construct to work. */
  const rejected: Array<[string, string, string]> = [
    ["lookahead", "(?=a)a", "invalid or unsupported Perl syntax: `(?=` (lookahead assertions (?=…) and (?!…) are not supported by RE2)"],
    ["negative lookahead", "a(?!b)", "invalid or unsupported Perl syntax: `(?!` (lookahead assertions (?=…) and (?!…) are not supported by RE2)"],
    ["lookbehind", "(?<=a)b", "invalid named capture: `(?<=a)b` (lookbehind assertions (?<=…) and (?<!…) are not supported by RE2)"],
    ["a backreference", "(a)\\1", "invalid escape sequence: `\\1` (backreferences are not supported by RE2)"],
    ["a named backreference \\k", "(?P<a>x)\\k<a>", "invalid escape sequence: `\\k` (backreferences are not supported by RE2)"],
    ["a Python-style backreference", "(?P<a>x)(?P=a)", "invalid or unsupported Perl syntax: `(?P` (backreferences are not supported by RE2)"],
    ["an atomic group", "(?>a)", "invalid or unsupported Perl syntax: `(?>` (atomic groups are not supported by RE2)"],
    ["a possessive quantifier", "a*+", "invalid nested repetition operator: `*+` (RE2 has no possessive quantifiers)"],
    ["an unknown flag", "(?x)a", "invalid or unsupported Perl syntax: `(?x`"],
    ["a dangling flag negation", "(?i-)a", "invalid or unsupported Perl syntax: `(?i-)`"],
    ["a comment group", "(?#note)a", "invalid or unsupported Perl syntax: `(?#`"],
    ["a stacked repetition", "a**", "invalid nested repetition operator: `**`"],
    ["a stacked counted repetition", "a{2}{3}", "invalid nested repetition operator: `{2}{3}`"],
    ["a repetition with nothing to repeat", "*a", "missing argument to repetition operator: `*`"],
    ["a repeat count above 1000", "a{1001}", "invalid repeat count: `{1001}`"],
    ["nested repeats above 1000 in total", "(a{1000}){1000}", "invalid repeat count: `{1000}`"],
    ["a decreasing repeat range", "a{3,2}", "invalid repeat count: `{3,2}`"],
    ["an unclosed group", "(a", "missing closing ): `(a`"],
    ["an unopened group", "a)", "unexpected ): `a)`"],
    ["an unclosed class", "[a", "missing closing ]: `[a`"],
    ["a reversed class range", "[z-a]", "invalid character class range: `z-a`"],
    ["an unknown POSIX class", "[[:foo:]]", "invalid character class range: `[:foo:]`"],
    ["an unknown Unicode class", "\\p{Klingon}", "invalid character class range: `\\p{Klingon}`"],
    ["a duplicate capture name", "(?P<a>x)(?P<a>y)", "duplicate capture group name: `a`"],
    ["an invalid capture name", "(?P<a-b>x)", "invalid named capture: `(?P<a-b>`"],
    ["\\Z", "a\\Z", "invalid escape sequence: `\\Z`"],
    ["\\C", "\\C", "invalid escape sequence: `\\C`"],
    ["\\b inside a class", "[\\b]", "invalid escape sequence: `\\b`"],
    ["a trailing backslash", "a\\", "trailing backslash at end of expression"],
    ["\\x{…} above U+10FFFF", "\\x{110000}", "invalid escape sequence: `\\x{110000`"],
  ];
  for (const [what, pattern, reason] of rejected) {
    it(`rejects ${what}: ${pattern}`, () => {
      expect(() => Regex.compile(pattern)).to.throw(RegexSyntaxError, `regex ${JSON.stringify(pattern)}: ${reason}`);
    });
  }
});

describe("regex: linear-time matching", () => {
  // 100 KB of `a` then `b`: a backtracking engine tries exponentially many ways to split the a's.
  const evil = "a".repeat(100_000) + "b";

  it("answers (a+)+$ on a 100 KB hostile line (the mocha timeout is the bound)", () => {
    const re = Regex.compile("(a+)+$");
    expect(re.test(evil)).to.equal(false);
    expect(re.find(evil)).to.equal(null);
    expect(re.matchesFully(evil)).to.equal(false);
    expect(re.replaceAll(evil, () => "x")).to.equal(evil);
  });

  it("answers (a+)+$ through a relabel rule on a 100 KB hostile label value", () => {
    const rules = compileRelabelConfigs([
      { source_labels: ["line"], regex: "(a+)+$", target_label: "hit", replacement: "yes" },
      { source_labels: ["line"], regex: "(a|aa)+", action: "drop" },
    ]);
    expect(relabel({ line: evil }, rules)).to.deep.equal({ line: evil });
  });
});

/**
 * Literal patterns (`^/healthz$`, `GET /ping`, `\.png$`) are answered by a string comparison
 * instead of the engine: every answer must be the engine's, whatever the input.
 */
describe("regex: literal patterns answered without the engine", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the engine itself, as the reference
  const { RE2JS } = require("re2js") as typeof import("re2js");

  const literal: Array<[string, { text: string; atStart: boolean; atEnd: boolean }]> = [
    ["^/healthz$", { text: "/healthz", atStart: true, atEnd: true }],
    ["GET /ping", { text: "GET /ping", atStart: false, atEnd: false }],
    ["\\.png$", { text: ".png", atStart: false, atEnd: true }],
    ["^\\[INFO\\]", { text: "[INFO]", atStart: true, atEnd: false }],
    ["a\\$", { text: "a$", atStart: false, atEnd: false }],
    ["a\\\\$", { text: "a\\", atStart: false, atEnd: true }],
    ["\\^a", { text: "^a", atStart: false, atEnd: false }],
    ["^$", { text: "", atStart: true, atEnd: true }],
    ["^", { text: "", atStart: true, atEnd: false }],
    ["", { text: "", atStart: false, atEnd: false }],
    ['level="error" #1, @x ~y', { text: 'level="error" #1, @x ~y', atStart: false, atEnd: false }],
  ];
  for (const [pattern, expected] of literal) {
    it(`reads ${JSON.stringify(pattern)} as the literal ${JSON.stringify(expected.text)}`, () => {
      expect(literalPattern(pattern)).to.deep.equal(expected);
    });
  }

  const notLiteral = ["a.b", "a|b", "(?i)abc", "(?m)^a$", "a+", "a*", "a?", "(a)", "[a]", "a{2}", "a]", "\\d", "\\Qa.b\\E", "\\x41", "é", "^^a", "a$$", "a$b", "a\\nb", "a\tb", "\\A/x\\z"];
  for (const pattern of notLiteral) {
    it(`leaves ${JSON.stringify(pattern)} to the engine`, () => {
      expect(literalPattern(pattern)).to.equal(undefined);
    });
  }

  const patterns = [...literal.map(([pattern]) => pattern), "^/api/", "orders$", "a", "A", "ab"];
  const inputs = ["", "/healthz", "/healthz/", "x/healthz", "/healthz\n", "\n/healthz", "/HEALTHZ", "GET /ping HTTP/1.1", "GET /pin", "image.png", "image.pngx", "imagexpng",
    "[INFO] ok", " [INFO]", "a$", "a$b", "a\\", "a\\b", "^a", "a", "A", "ab", "ba", "aab\n", "/api/orders", "/api/orders\n", "é/healthz", "\ud800/healthz", "/healthz\udc00", "😀a😀",
    'x level="error" #1, @x ~y x'];
  for (const pattern of patterns) {
    it(`gives the engine's test() and matchesFully() answers for ${JSON.stringify(pattern)} on ${inputs.length} inputs`, () => {
      const re = Regex.compile(pattern);
      const engine = RE2JS.compile(pattern);
      for (const input of inputs) {
        expect(re.test(input), `test ${JSON.stringify(input)}`).to.equal(engine.test(input));
        expect(re.matchesFully(input), `matchesFully ${JSON.stringify(input)}`).to.equal(engine.matcher(input).matches());
      }
    });
  }
});
