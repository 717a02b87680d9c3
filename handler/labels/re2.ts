/**
 * Translation of Go RE2 regular expressions (the syntax of Prometheus relabel rules) into
 * JavaScript regular expressions with the same meaning.
 *
 * Decisions:
 * - The output is always used with the `u` flag. Go matches code points (a `.` consumes a whole
 *   emoji, `[^a]` never splits a surrogate pair) and `\p{…}` needs it. Every escape we emit is
 *   valid in `u` mode because we emit canonical forms, never the user's text verbatim.
 * - `(?i)` becomes the JavaScript `i` flag, hence the `flags` field of the result ("u" or "iu").
 *   Node 20 has no modifier groups, so case-insensitivity must cover every case-sensitive part
 *   of the pattern; a pattern that mixes case-sensitive and case-insensitive parts is rejected.
 * - `(?s)`, `(?m)` and `(?U)` are translated exactly in any scope, because we rewrite `.`, `^`,
 *   `$` and quantifiers ourselves instead of relying on JavaScript flags.
 * - Constructs whose meaning differs are spelled out: Go's `\s` is `[\t\n\f\r ]` (JavaScript's
 *   includes Unicode spaces and `\v`), Go's `\p{C}` excludes unassigned code points, `$`
 *   without `m` is the end of the text (JavaScript's `$` without the `m` flag agrees).
 * - Everything RE2 rejects is rejected with a message naming the feature: lookaround,
 *   backreferences, atomic groups, possessive quantifiers, `\C`, `\Z`, unknown flags.
 *
 * Known differences that remain (documented, not worth a table of Unicode data):
 * - JavaScript backtracks, so a pathological pattern can be slow where RE2 is linear.
 * - Under `(?i)`, `\b` counts `ſ` (U+017F) and the Kelvin sign as word characters in
 *   JavaScript, not in Go. Unicode tables may differ by a version between Go and Node's ICU.
 * - Go's limit on the product of nested repetition counts (1000) is not enforced; each count is.
 */

export interface Re2Translation {
  /** JavaScript pattern source, unanchored (wrap it to anchor it). */
  source: string;
  /** Flags to compile it with: always `u`, plus `i` when the pattern used `(?i)`. */
  flags: "u" | "iu";
}

/** A pattern JavaScript cannot express with RE2's meaning, or that RE2 itself rejects. */
export class Re2SyntaxError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`regex ${JSON.stringify(pattern)}: ${reason} (at offset ${offset})`);
    this.name = "Re2SyntaxError";
  }
}

/** Translates a Go RE2 pattern. Throws `Re2SyntaxError`. */
export function translateRe2(pattern: string): Re2Translation {
  return new Re2Translator(pattern).translate();
}

/**
 * Compiles a Go RE2 pattern into a JavaScript RegExp. With `anchored`, the pattern must match the
 * whole input, as Prometheus's `^(?:…)$` wrapping does.
 */
export function compileRe2(pattern: string, options: { anchored?: boolean } = {}): RegExp {
  const { source, flags } = translateRe2(pattern);
  const full = options.anchored ? `^(?:${source})$` : source;
  try {
    return new RegExp(full, flags);
  } catch (err) {
    // A translation bug, not a user error; still report it against the user's pattern.
    throw new Re2SyntaxError(pattern, `JavaScript rejected the translation /${full}/${flags}: ${String(err)}`, 0);
  }
}

interface Flags {
  /** (?i) case-insensitive */
  i: boolean;
  /** (?m) ^ and $ match at line boundaries */
  m: boolean;
  /** (?s) . matches \n */
  s: boolean;
  /** (?U) quantifiers are lazy by default */
  U: boolean;
}

interface OpenGroup {
  savedFlags: Flags;
  outStart: number;
  offset: number;
}

/** What a following quantifier would repeat. */
interface LastAtom {
  outStart: number;
  /** Assertions and already-repeated atoms need a (?:…) wrapper to be quantified in JS. */
  needsWrap: boolean;
}

/** A set of code points as sorted, non-overlapping inclusive ranges. */
type Ranges = ReadonlyArray<readonly [number, number]>;

const MAX_CODE_POINT = 0x10ffff;
const MAX_REPEAT = 1000;

const PERL_CLASSES: Readonly<Record<string, Ranges>> = {
  d: [[0x30, 0x39]],
  s: [
    [0x09, 0x0a],
    [0x0c, 0x0d],
    [0x20, 0x20],
  ],
  w: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
};

const POSIX_CLASSES: Readonly<Record<string, Ranges>> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: PERL_CLASSES.w,
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

/** Go's `unicode.Categories` names. Go's `C` has no unassigned code points, unlike Unicode's. */
const GO_CATEGORIES = new Set(
  "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs".split(" "),
);

/** Characters that must be backslash-escaped outside a class in a `u` pattern. */
const SYNTAX_CHARS = new Set("^$\\.*+?()[]{}|/");
/** Characters that must be backslash-escaped inside a class in a `u` pattern. */
const CLASS_SYNTAX_CHARS = new Set("\\]^-[");

/**
 * A Unicode class resolved to JavaScript class items: `items` is the positive set;
 * `negatedItems` the complement, when it can be written as items.
 */
interface UnicodeClass {
  items: string[];
  negatedItems: string[] | null;
  caseSensitive: boolean;
}

class Re2Translator {
  private pos = 0;
  private out = "";
  private flags: Flags = { i: false, m: false, s: false, U: false };
  private readonly groups: OpenGroup[] = [];
  private readonly groupNames = new Set<string>();
  private last: LastAtom | null = null;
  private lastWasRepeat = false;
  private lastRepeatStart = 0;
  private sawCaseSensitive = false;
  private sawCaseInsensitive = false;

  constructor(private readonly pattern: string) {}

  translate(): Re2Translation {
    while (this.pos < this.pattern.length) {
      const isRepeat = this.step();
      this.lastWasRepeat = isRepeat;
    }
    if (this.groups.length > 0) {
      this.fail("missing closing )", this.groups[this.groups.length - 1].offset);
    }
    return { source: this.out, flags: this.sawCaseInsensitive ? "iu" : "u" };
  }

  /** Consumes one token; returns whether it was a repetition operator. */
  private step(): boolean {
    const c = this.pattern[this.pos];
    switch (c) {
      case "(":
        this.openGroup();
        return false;
      case ")":
        this.closeGroup();
        return false;
      case "|":
        this.pos++;
        this.out += "|";
        this.last = null;
        return false;
      case "^":
        this.pos++;
        // Go's ^ without (?m) is the start of the text, as JavaScript's ^ without the m flag.
        this.emitAssertion(this.flags.m ? "(?<![^\\n])" : "^");
        return false;
      case "$":
        this.pos++;
        this.emitAssertion(this.flags.m ? "(?![^\\n])" : "$");
        return false;
      case ".":
        this.pos++;
        // Go's . excludes only \n; JavaScript's excludes \r, U+2028 and U+2029 too.
        this.emitAtom(this.flags.s ? "[^]" : "[^\\n]", false);
        return false;
      case "[":
        this.parseClass();
        return false;
      case "*":
      case "+":
      case "?":
        this.pos++;
        this.applyRepeat(c, this.pos - 1);
        return true;
      case "{":
        return this.parseBraceRepeatOrLiteral();
      case "\\":
        this.parseTopLevelEscape();
        return false;
      default: {
        const offset = this.pos;
        this.emitLiteral(this.nextCodePoint(), offset);
        return false;
      }
    }
  }

  // ---- errors and small helpers ----

  private fail(reason: string, offset = this.pos): never {
    throw new Re2SyntaxError(this.pattern, reason, offset);
  }

  private peek(offset = 0): string | undefined {
    return this.pattern[this.pos + offset];
  }

  private startsWithAt(s: string): boolean {
    return this.pattern.startsWith(s, this.pos);
  }

  private nextCodePoint(): number {
    const cp = this.pattern.codePointAt(this.pos) as number;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  /** Records that a case-sensitive construct was emitted under the current (?i) state. */
  private noteCase(caseSensitive: boolean, offset: number): void {
    if (!caseSensitive) return;
    if (this.flags.i) this.sawCaseInsensitive = true;
    else this.sawCaseSensitive = true;
    if (this.sawCaseInsensitive && this.sawCaseSensitive) {
      this.fail(
        "(?i) applied to only part of the regex is not supported: JavaScript in Node 20 has no " +
          "scoped flags (modifier groups); make the whole regex case-insensitive or spell out " +
          "both cases, e.g. [Aa]",
        offset,
      );
    }
  }

  private emitAtom(js: string, caseSensitive: boolean, offset = this.pos): void {
    this.noteCase(caseSensitive, offset);
    this.last = { outStart: this.out.length, needsWrap: false };
    this.out += js;
  }

  /** Zero-width assertions cannot be quantified in a `u` pattern; Go allows it (`^*`). */
  private emitAssertion(js: string): void {
    this.last = { outStart: this.out.length, needsWrap: true };
    this.out += js;
  }

  private emitLiteral(cp: number, offset: number): void {
    this.emitAtom(escapeLiteral(cp), hasCaseVariants(cp), offset);
  }

  // ---- groups and flags ----

  private openGroup(): void {
    const offset = this.pos;
    if (this.peek(1) !== "?") {
      this.pos++;
      this.pushGroup(offset, "(");
      return;
    }
    if (this.startsWithAt("(?P<") || (this.startsWithAt("(?<") && !this.startsWithAt("(?<=") && !this.startsWithAt("(?<!"))) {
      this.openNamedGroup(offset);
      return;
    }
    this.rejectUnsupportedGroup(offset);
    this.pos += 2;
    this.parseFlagGroup(offset);
  }

  private pushGroup(offset: number, js: string): void {
    this.groups.push({ savedFlags: { ...this.flags }, outStart: this.out.length, offset });
    this.out += js;
    this.last = null;
  }

  private openNamedGroup(offset: number): void {
    const nameStart = offset + (this.startsWithAt("(?P<") ? 4 : 3);
    const end = this.pattern.indexOf(">", nameStart);
    if (end < 0) this.fail("invalid named capture: missing >", offset);
    const name = this.pattern.slice(nameStart, end);
    if (!/^[A-Za-z0-9_]+$/.test(name)) {
      this.fail(`invalid named capture ${JSON.stringify(name)}: names are letters, digits and _`, offset);
    }
    if (/^[0-9]/.test(name)) {
      this.fail(`capture group name ${JSON.stringify(name)} starts with a digit, which JavaScript does not allow`, offset);
    }
    if (this.groupNames.has(name)) this.fail(`duplicate capture group name ${JSON.stringify(name)}`, offset);
    this.groupNames.add(name);
    this.pos = end + 1;
    this.pushGroup(offset, `(?<${name}>`);
  }

  private rejectUnsupportedGroup(offset: number): void {
    const unsupported: Array<[string, string]> = [
      ["(?=", "lookahead assertions (?=…) and (?!…) are not supported by RE2"],
      ["(?!", "lookahead assertions (?=…) and (?!…) are not supported by RE2"],
      ["(?<=", "lookbehind assertions (?<=…) and (?<!…) are not supported by RE2"],
      ["(?<!", "lookbehind assertions (?<=…) and (?<!…) are not supported by RE2"],
      ["(?P=", "backreferences (?P=name) are not supported by RE2"],
      ["(?P>", "recursion (?P>name) is not supported by RE2"],
      ["(?>", "atomic groups (?>…) are not supported by RE2"],
      ["(?#", "comments (?#…) are not supported by RE2"],
      ["(?|", "branch reset groups (?|…) are not supported by RE2"],
      ["(?'", "named captures written (?'name'…) are not supported by RE2; use (?P<name>…)"],
    ];
    for (const [prefix, reason] of unsupported) {
      if (this.startsWithAt(prefix)) this.fail(reason, offset);
    }
  }

  /** Parses `imsU`, optional `-imsU`, then `)` (set flags in this group) or `:` (new group). */
  private parseFlagGroup(offset: number): void {
    const flags = { ...this.flags };
    let negate = false;
    let sawFlagAfterMinus = false;
    while (this.pos < this.pattern.length) {
      const c = this.pattern[this.pos++];
      if (c === "i" || c === "m" || c === "s" || c === "U") {
        flags[c] = !negate;
        sawFlagAfterMinus = negate;
        continue;
      }
      if (c === "-" && !negate) {
        negate = true;
        continue;
      }
      if (c === ")" || c === ":") {
        if (negate && !sawFlagAfterMinus) break;
        if (c === ":") this.pushGroup(offset, "(?:");
        this.flags = flags;
        return;
      }
      if (/[A-Za-z]/.test(c)) {
        this.fail(`flag ${JSON.stringify(c)} is not supported by RE2 (supported flags: i, m, s, U)`, this.pos - 1);
      }
      break;
    }
    this.fail(`invalid or unsupported Perl syntax ${JSON.stringify(this.pattern.slice(offset, this.pos))}`, offset);
  }

  private closeGroup(): void {
    const group = this.groups.pop();
    if (group === undefined) this.fail("unexpected )");
    this.pos++;
    this.out += ")";
    this.flags = group.savedFlags;
    this.last = { outStart: group.outStart, needsWrap: false };
  }

  // ---- repetition ----

  /** `{n}`, `{n,}`, `{n,m}` repeat; anything else makes `{` a literal, as in Go. */
  private parseBraceRepeatOrLiteral(): boolean {
    const start = this.pos;
    const m = /^\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}/.exec(this.pattern.slice(start));
    if (m === null) {
      this.pos++;
      this.emitLiteral(0x7b, start);
      return false;
    }
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === undefined ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
      this.fail(`invalid repeat count ${m[0]} (RE2 allows at most ${MAX_REPEAT})`, start);
    }
    this.pos += m[0].length;
    this.applyRepeat(max === min ? `{${min}}` : max < 0 ? `{${min},}` : `{${min},${max}}`, start);
    return true;
  }

  private applyRepeat(quantifier: string, offset: number): void {
    let lazy = false;
    if (this.peek() === "?") {
      this.pos++;
      lazy = true;
    }
    if (this.lastWasRepeat) {
      this.fail(
        `invalid nested repetition operator ${JSON.stringify(this.pattern.slice(this.lastRepeatStart, this.pos))} ` +
          "(RE2 has no possessive quantifiers and does not stack repetitions)",
        offset,
      );
    }
    this.lastRepeatStart = offset;
    const last = this.last;
    if (last === null) this.fail(`missing argument to repetition operator ${JSON.stringify(quantifier)}`, offset);
    if (this.flags.U) lazy = !lazy;
    if (last.needsWrap) {
      this.out = `${this.out.slice(0, last.outStart)}(?:${this.out.slice(last.outStart)})`;
    }
    this.out += quantifier + (lazy ? "?" : "");
    // A second quantifier on the same atom (possible in Go after a flag group) needs a wrapper.
    this.last = { outStart: last.outStart, needsWrap: true };
  }

  // ---- escapes ----

  private parseTopLevelEscape(): void {
    const offset = this.pos;
    const d = this.peek(1);
    switch (d) {
      case "A":
        this.pos += 2;
        this.emitAssertion("^");
        return;
      case "z":
        this.pos += 2;
        this.emitAssertion("$");
        return;
      case "b":
      case "B":
        this.pos += 2;
        this.emitAssertion(`\\${d}`);
        return;
      case "Q":
        this.parseQuotedLiteral();
        return;
      case "p":
      case "P": {
        const cls = this.parseUnicodeClass();
        this.emitAtom(unicodeClassAtom(cls, d === "P" ? !cls.negated : cls.negated), cls.caseSensitive, offset);
        return;
      }
      case "d":
      case "D":
      case "s":
      case "S":
      case "w":
      case "W":
        this.pos += 2;
        this.emitAtom(perlClassAtom(d), d === "w" || d === "W", offset);
        return;
      default:
        this.emitLiteral(this.parseEscapedCodePoint(), offset);
    }
  }

  /** `\Q…\E`: everything up to `\E` (or the end) is literal text. */
  private parseQuotedLiteral(): void {
    const start = this.pos + 2;
    const end = this.pattern.indexOf("\\E", start);
    const stop = end < 0 ? this.pattern.length : end;
    this.pos = start;
    while (this.pos < stop) {
      const offset = this.pos;
      this.emitLiteral(this.nextCodePoint(), offset);
    }
    this.pos = end < 0 ? stop : end + 2;
  }

  /** A single-character escape (also used in classes), as Go's `parseEscape`. */
  private parseEscapedCodePoint(): number {
    const offset = this.pos;
    this.pos++;
    if (this.pos >= this.pattern.length) this.fail("trailing backslash at end of expression", offset);
    const cp = this.nextCodePoint();
    const c = String.fromCodePoint(cp);
    if (cp < 0x80 && !/[0-9A-Za-z]/.test(c)) return cp; // escaped punctuation is itself
    if (/[0-7]/.test(c)) return this.parseOctal(cp - 0x30, offset);
    if (c === "x") return this.parseHexEscape(offset);
    const simple: Record<string, number> = { a: 0x07, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };
    if (simple[c] !== undefined) return simple[c];
    return this.failEscape(c, offset);
  }

  private failEscape(c: string, offset: number): never {
    if (/[1-9]/.test(c)) this.fail(`backreferences (\\${c}) are not supported by RE2`, offset);
    if (c === "k" || c === "g") this.fail(`backreferences (\\${c}…) are not supported by RE2`, offset);
    if (c === "Z") this.fail("\\Z is not supported by RE2; use \\z or $", offset);
    if (c === "C") this.fail("\\C (any byte) is not supported", offset);
    return this.fail(`invalid escape sequence \\${c}`, offset);
  }

  /** Go: `\0`, `\0NN` and `\NNN` with 2–3 octal digits; a lone `\1`..`\7` is a backreference. */
  private parseOctal(firstDigit: number, offset: number): number {
    const isOctal = (ch: string | undefined): boolean => ch !== undefined && ch >= "0" && ch <= "7";
    if (firstDigit !== 0 && !isOctal(this.peek())) this.failEscape(String(firstDigit), offset);
    let value = firstDigit;
    for (let digits = 1; digits < 3 && isOctal(this.peek()); digits++) {
      value = value * 8 + (this.pattern.charCodeAt(this.pos++) - 0x30);
    }
    return value;
  }

  private parseHexEscape(offset: number): number {
    const braced = /^\{([0-9A-Fa-f]+)\}/.exec(this.pattern.slice(this.pos));
    if (braced !== null) {
      const value = parseInt(braced[1], 16);
      if (value > MAX_CODE_POINT) this.fail("invalid escape sequence: code point above U+10FFFF", offset);
      this.pos += braced[0].length;
      return value;
    }
    const two = /^[0-9A-Fa-f]{2}/.exec(this.pattern.slice(this.pos));
    if (two === null) this.fail("invalid escape sequence: \\x needs two hex digits or {hex}", offset);
    this.pos += 2;
    return parseInt(two[0], 16);
  }

  // ---- Unicode classes ----

  /** Parses `\pL`, `\p{Greek}`, `\PL`, `\p{^Greek}` at the current position. */
  private parseUnicodeClass(): UnicodeClass & { negated: boolean } {
    const offset = this.pos;
    let negated = false;
    this.pos += 2;
    let name: string;
    if (this.peek() === "{") {
      const end = this.pattern.indexOf("}", this.pos);
      if (end < 0) this.fail("invalid character class range: missing } after \\p{", offset);
      name = this.pattern.slice(this.pos + 1, end);
      this.pos = end + 1;
    } else {
      if (this.pos >= this.pattern.length) this.fail("invalid character class range: \\p needs a class name", offset);
      name = String.fromCodePoint(this.nextCodePoint());
    }
    if (name.startsWith("^")) {
      negated = true;
      name = name.slice(1);
    }
    const cls = resolveUnicodeClass(name);
    if (cls === null) {
      this.fail(`unknown Unicode class ${JSON.stringify(name)} (RE2 knows general categories such as L or Lu, scripts such as Greek, and Any)`, offset);
    }
    return { ...cls, negated };
  }

  // ---- bracket classes ----

  private parseClass(): void {
    const offset = this.pos;
    this.pos++;
    let negated = false;
    if (this.peek() === "^") {
      negated = true;
      this.pos++;
    }
    const items: string[] = [];
    let caseSensitive = false;
    let first = true;
    for (;;) {
      if (this.pos >= this.pattern.length) this.fail("missing closing ]", offset);
      if (this.peek() === "]" && !first) break;
      first = false;
      caseSensitive = this.parseClassItem(items) || caseSensitive;
    }
    this.pos++;
    this.emitAtom(`[${negated ? "^" : ""}${items.join("")}]`, caseSensitive, offset);
  }

  /** Appends one class item (range, POSIX/Perl/Unicode class) to `items`; returns case sensitivity. */
  private parseClassItem(items: string[]): boolean {
    const offset = this.pos;
    if (this.startsWithAt("[:")) {
      const posix = this.tryParsePosixClass();
      if (posix !== null) {
        items.push(...posix.items);
        return posix.caseSensitive;
      }
    }
    const next = this.peek(1);
    if (this.peek() === "\\" && (next === "p" || next === "P")) {
      const cls = this.parseUnicodeClass();
      const negated = next === "P" ? !cls.negated : cls.negated;
      if (!negated) {
        items.push(...cls.items);
      } else if (this.flags.i && cls.caseSensitive) {
        // JavaScript folds \P{…} before negating inside a class under the i flag; Go after.
        this.fail("a negated Unicode class inside [...] with (?i) is not supported; negate the whole class instead", offset);
      } else if (cls.negatedItems === null) {
        this.fail("this negated Unicode class cannot be combined with other items in [...]", offset);
      } else {
        items.push(...cls.negatedItems);
      }
      return cls.caseSensitive;
    }
    if (this.peek() === "\\" && next !== undefined && "dDsSwW".includes(next)) {
      this.pos += 2;
      const ranges = PERL_CLASSES[next.toLowerCase()];
      const negated = next !== next.toLowerCase();
      items.push(...rangesToClassItems(negated ? complement(this.flags.i ? foldAscii(ranges) : ranges) : ranges));
      return rangesHaveCase(ranges);
    }
    return this.parseClassRange(items);
  }

  private tryParsePosixClass(): { items: string[]; caseSensitive: boolean } | null {
    const end = this.pattern.indexOf(":]", this.pos + 2);
    if (end < 0) return null; // Go treats the [ as a literal then
    const raw = this.pattern.slice(this.pos + 2, end);
    const negated = raw.startsWith("^");
    const name = negated ? raw.slice(1) : raw;
    if (!Object.hasOwn(POSIX_CLASSES, name)) {
      this.fail(`invalid character class range [:${raw}:] (unknown POSIX class)`);
    }
    const ranges = POSIX_CLASSES[name];
    this.pos = end + 2;
    const set = negated ? complement(this.flags.i ? foldAscii(ranges) : ranges) : ranges;
    return { items: rangesToClassItems(set), caseSensitive: rangesHaveCase(ranges) };
  }

  private parseClassRange(items: string[]): boolean {
    const offset = this.pos;
    const lo = this.parseClassChar();
    let hi = lo;
    if (this.peek() === "-" && this.peek(1) !== undefined && this.peek(1) !== "]") {
      this.pos++;
      hi = this.parseClassChar();
      if (hi < lo) {
        this.fail(`invalid character class range ${JSON.stringify(this.pattern.slice(offset, this.pos))}`, offset);
      }
    }
    items.push(lo === hi ? escapeClassChar(lo) : `${escapeClassChar(lo)}-${escapeClassChar(hi)}`);
    return rangesHaveCase([[lo, hi]]);
  }

  private parseClassChar(): number {
    if (this.pos >= this.pattern.length) this.fail("missing closing ]");
    if (this.peek() === "\\") return this.parseEscapedCodePoint();
    return this.nextCodePoint();
  }
}

// ---- pure helpers ----

function escapeLiteral(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if (SYNTAX_CHARS.has(ch)) return `\\${ch}`;
  return needsHexEscape(cp) ? hexEscape(cp) : ch;
}

function escapeClassChar(cp: number): string {
  const ch = String.fromCodePoint(cp);
  if (CLASS_SYNTAX_CHARS.has(ch)) return `\\${ch}`;
  return needsHexEscape(cp) ? hexEscape(cp) : ch;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Anything but printable text (controls, spaces other than " ", unassigned, surrogates) is written as `\u{…}`. */
function needsHexEscape(cp: number): boolean {
  if (cp >= 0x20 && cp < 0x7f) return false;
  return !PRINTABLE.test(String.fromCodePoint(cp));
}

function hexEscape(cp: number): string {
  return `\\u{${cp.toString(16).toUpperCase()}}`;
}

/** Whether case-insensitive matching can change what this code point matches. */
function hasCaseVariants(cp: number): boolean {
  const s = String.fromCodePoint(cp);
  return s.toLowerCase() !== s || s.toUpperCase() !== s;
}

/** Conservative: true when the ranges may contain a cased character. */
function rangesHaveCase(ranges: Ranges): boolean {
  return ranges.some(([lo, hi]) => (lo <= 0x5a && hi >= 0x41) || (lo <= 0x7a && hi >= 0x61) || hi >= 0xb5);
}

function rangesToClassItems(ranges: Ranges): string[] {
  return ranges.map(([lo, hi]) => (lo === hi ? escapeClassChar(lo) : `${escapeClassChar(lo)}-${escapeClassChar(hi)}`));
}

/** Complement of sorted, disjoint ranges over all code points. */
function complement(ranges: Ranges): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

/**
 * Case-fold closure of an ASCII set, as Go computes before negating a class under (?i): both
 * cases of each letter, plus `ſ` (folds with s) and the Kelvin sign (folds with k).
 */
function foldAscii(ranges: Ranges): Array<[number, number]> {
  const members = new Set<number>();
  for (const [lo, hi] of ranges) {
    for (let cp = lo; cp <= hi; cp++) {
      members.add(cp);
      const ch = String.fromCharCode(cp);
      members.add(ch.toLowerCase().charCodeAt(0));
      members.add(ch.toUpperCase().charCodeAt(0));
    }
  }
  if (members.has(0x73)) members.add(0x17f);
  if (members.has(0x6b)) members.add(0x212a);
  return toRanges([...members].sort((a, b) => a - b));
}

function toRanges(sorted: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const cp of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && cp === last[1] + 1) last[1] = cp;
    else out.push([cp, cp]);
  }
  return out;
}

/** A Perl class outside brackets: JavaScript's \d and \w agree with Go's (ASCII); \s does not. */
function perlClassAtom(letter: string): string {
  switch (letter) {
    case "s":
      return "[\\t\\n\\f\\r ]";
    case "S":
      return "[^\\t\\n\\f\\r ]";
    default:
      return `\\${letter}`;
  }
}

function unicodeClassAtom(cls: UnicodeClass, negated: boolean): string {
  // A negated bracket class folds case before negating, as Go does, unlike \P{…} under the i flag.
  return `[${negated ? "^" : ""}${cls.items.join("")}]`;
}

const unicodeClassCache = new Map<string, UnicodeClass | null>();

/** Maps an RE2 Unicode class name to JavaScript class items, or null when unknown. */
function resolveUnicodeClass(name: string): UnicodeClass | null {
  const cached = unicodeClassCache.get(name);
  if (cached !== undefined || unicodeClassCache.has(name)) return cached ?? null;
  const resolved = resolveUncached(name);
  unicodeClassCache.set(name, resolved);
  return resolved;
}

function resolveUncached(name: string): UnicodeClass | null {
  if (name === "Any") {
    return { items: ["\\u{0}-\\u{10FFFF}"], negatedItems: [], caseSensitive: false };
  }
  if (name === "C") {
    // Go's C is Cc|Cf|Co|Cs; JavaScript's \p{C} also includes unassigned code points (Cn).
    return {
      items: ["\\p{Cc}", "\\p{Cf}", "\\p{Co}", "\\p{Cs}"],
      negatedItems: ["\\p{L}", "\\p{M}", "\\p{N}", "\\p{P}", "\\p{S}", "\\p{Z}", "\\p{Cn}"],
      caseSensitive: false,
    };
  }
  if (GO_CATEGORIES.has(name)) {
    // Punctuation, separators, controls and decimal digits have no case mappings.
    const caseSensitive = !/^[PZC]/.test(name) && name !== "Nd";
    return { items: [`\\p{${name}}`], negatedItems: [`\\P{${name}}`], caseSensitive };
  }
  if (!/^[A-Za-z_]+$/.test(name)) return null;
  const item = `\\p{Script=${name}}`;
  try {
    new RegExp(item, "u");
  } catch {
    return null;
  }
  return { items: [item], negatedItems: [`\\P{Script=${name}}`], caseSensitive: true };
}
