/**
 * The one regular-expression engine of the shipper: Go RE2 syntax and semantics (what
 * Prometheus relabel rules and Promtail stages accept), with matching time linear in the input.
 * Every pattern that comes from a setting (RELABEL_CONFIGS, TAG_LABELS, LOKI_STAGE_CONFIGS) is
 * compiled here, so no log line can make a backtracking engine spin.
 *
 * The engine is `re2js`, a pure-JavaScript port of RE2 (through RE2/J): it bundles into the
 * function like any other module, on x86_64 and arm64 alike. The native `re2` binding was
 * measured too; see the README (Dependencies) for the figures and why it was not chosen.
 */
import type * as Re2js from "re2js";

let engine: typeof Re2js | undefined;

/**
 * re2js is loaded with the first pattern compiled, not at cold start: a function without
 * regex settings does not evaluate its 150 KB (minified) at all.
 */
function re2js(): typeof Re2js {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy, literal require the bundler still inlines
  return (engine ??= require("re2js") as typeof Re2js);
}

/** A pattern RE2 rejects. `reason` is RE2's own message (Go's wording), with a hint for common JavaScript-isms. */
export class RegexSyntaxError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`regex ${JSON.stringify(pattern)}: ${reason}`);
    this.name = "RegexSyntaxError";
  }
}

/** One match: group 0 is the whole match; a group that did not take part is undefined. */
export interface RegexMatch {
  /** Offsets of the whole match in the input (UTF-16 code units, as JavaScript strings count). */
  readonly start: number;
  readonly end: number;
  group(index: number): string | undefined;
  /** Where a group's text starts in the input; -1 when it did not take part. */
  groupStart(index: number): number;
  /** The value of a named group `(?P<name>…)`; undefined when there is no such group or it did not take part. */
  named(name: string): string | undefined;
}

/** Constructs RE2 rejects whose JavaScript meaning users often expect; the hint says why. */
const HINTS: ReadonlyArray<[RegExp, string]> = [
  [/\(\?[=!]/, "lookahead assertions (?=…) and (?!…) are not supported by RE2"],
  [/\(\?<[=!]/, "lookbehind assertions (?<=…) and (?<!…) are not supported by RE2"],
  [/\\[1-9]|\\k<|\(\?P=/, "backreferences are not supported by RE2"],
  [/\(\?>/, "atomic groups are not supported by RE2"],
  [/[*+?}]\+/, "RE2 has no possessive quantifiers"],
];

/**
 * A pattern that is a plain ASCII string, optionally anchored with `^` and/or `$` (`^/healthz$`,
 * `GET /ping`, `\.png$`): its text and anchors. Letters, digits, spaces and punctuation other
 * than RE2's metacharacters stand for themselves; a metacharacter (or `/`, `-`) escaped with a
 * backslash does too. Anything else (classes, groups, flags, repetition, non-ASCII) is not one.
 */
const LITERAL_PATTERN = /^(\^?)((?:[ !"#%&',\-/0-9:;<=>@A-Z_`a-z~]|\\[\\.+*?()|[\]{}^$/-])*)(\$?)$/;

interface LiteralPattern {
  text: string;
  atStart: boolean;
  atEnd: boolean;
}

/** The literal a pattern stands for, or undefined when it is not a plain (anchored) string. */
export function literalPattern(pattern: string): LiteralPattern | undefined {
  const parts = LITERAL_PATTERN.exec(pattern);
  if (parts === null) return undefined;
  return { text: parts[2].replace(/\\(.)/g, "$1"), atStart: parts[1] === "^", atEnd: parts[3] === "$" };
}

/**
 * Go's MatchString for a literal pattern, without the engine: RE2's `^` and `$` (without the `m`
 * flag) match only at the start and the end of the text, so the answer is a comparison. (re2js
 * costs about a microsecond a call even when its own prefilter rejects the input at once.)
 */
function literalTest(literal: LiteralPattern): (input: string) => boolean {
  const { text, atStart, atEnd } = literal;
  if (atStart && atEnd) return (input) => input === text;
  if (atStart) return (input) => input.startsWith(text);
  if (atEnd) return (input) => input.endsWith(text);
  return (input) => input.includes(text);
}

export class Regex {
  /** Capture group names by index (index 0, the whole match, has none). */
  readonly groupNames: ReadonlyArray<string | undefined>;
  /** Names of the named groups, in pattern order. */
  readonly names: readonly string[];
  private readonly re: Re2js.RE2JS;
  private readonly namedIndex: Readonly<Record<string, number>>;
  /** For a literal pattern: test() and matchesFully() without the engine (see literalPattern). */
  private readonly literalTest: ((input: string) => boolean) | undefined;
  private readonly literalText: string | undefined;

  private constructor(readonly source: string) {
    try {
      this.re = re2js().RE2JS.compile(source);
    } catch (err) {
      if (!(err instanceof re2js().RE2JSException)) throw err;
      const reason = err.message.replace(/^error parsing regexp: /, "");
      const hint = HINTS.find(([sign]) => sign.test(source));
      throw new RegexSyntaxError(source, hint ? `${reason} (${hint[1]})` : reason);
    }
    this.namedIndex = this.re.namedGroups();
    const names: Array<string | undefined> = new Array(this.re.groupCount() + 1).fill(undefined);
    for (const [name, index] of Object.entries(this.namedIndex)) names[index] = name;
    this.groupNames = names;
    this.names = names.filter((name): name is string => name !== undefined);
    const literal = literalPattern(source);
    this.literalTest = literal && literalTest(literal);
    this.literalText = literal?.text;
  }

  /** Compiles a Go RE2 pattern; throws RegexSyntaxError. */
  static compile(pattern: string): Regex {
    return new Regex(pattern);
  }

  /** Does the pattern match the whole input (Prometheus's anchored `^(?:…)$`)? */
  matchesFully(input: string): boolean {
    // A literal's anchors are zero-width at the ends: only the literal itself matches fully.
    if (this.literalText !== undefined) return input === this.literalText;
    return this.re.matcher(input).matches();
  }

  /** The match of the whole input with its groups, or null (relabel rules). */
  fullMatch(input: string): RegexMatch | null {
    const matcher = this.re.matcher(input);
    return matcher.matches() ? this.snapshot(matcher, input) : null;
  }

  /** Is there a match anywhere in the input (Go's MatchString)? */
  test(input: string): boolean {
    if (this.literalTest !== undefined) return this.literalTest(input);
    return this.re.test(input);
  }

  /** The leftmost match with its groups (Go's FindStringSubmatch), or null. */
  find(input: string): RegexMatch | null {
    const matcher = this.re.matcher(input);
    return matcher.find() ? this.snapshot(matcher, input) : null;
  }

  /**
   * Replaces every match with what `replacer` returns, with Go's ReplaceAllString rules: matches
   * do not overlap, and an empty match right after the previous match is not replaced.
   */
  replaceAll(input: string, replacer: (match: RegexMatch) => string): string {
    const matcher = this.re.matcher(input);
    let out = "";
    let lastMatchEnd = 0;
    let searchPos = 0;
    while (searchPos <= input.length && matcher.find(searchPos)) {
      const start = matcher.start();
      const end = matcher.end();
      out += input.slice(lastMatchEnd, start);
      if (end > lastMatchEnd || start === 0) out += replacer(this.snapshot(matcher, input));
      lastMatchEnd = end;
      // Advance by one code point past an empty match, otherwise to the match's end.
      const width = codePointWidth(input, searchPos);
      if (searchPos + width > end) searchPos += width;
      else searchPos = end;
    }
    return out + input.slice(lastMatchEnd);
  }

  /** Copies the groups out of the matcher (it is reused by the next search). */
  private snapshot(matcher: Re2js.Matcher, input: string): RegexMatch {
    const count = this.groupNames.length;
    const groups: Array<string | undefined> = new Array(count);
    const starts: number[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const start = matcher.start(i);
      starts[i] = start;
      groups[i] = start < 0 ? undefined : input.slice(start, matcher.end(i));
    }
    const namedIndex = this.namedIndex;
    return {
      start: starts[0],
      end: matcher.end(0),
      group: (index) => groups[index],
      groupStart: (index) => starts[index] ?? -1,
      named: (name) => (Object.hasOwn(namedIndex, name) ? groups[namedIndex[name]] : undefined),
    };
  }
}

function codePointWidth(input: string, pos: number): number {
  if (pos >= input.length) return 1;
  const code = input.charCodeAt(pos);
  return code >= 0xd800 && code <= 0xdbff && pos + 1 < input.length ? 2 : 1;
}

// ---------------------------------------------------------------------------------------------
// $1 / ${name} templates, as Go's Regexp.Expand (relabel replacements, template's regexReplaceAll)

/** One piece of a parsed expansion template. */
export type TemplatePart = { text: string } | { group: number } | { name: string };

const NAME_CHARS = /[\p{L}\p{Nd}_]*/uy;

/**
 * Parses a Go expansion template. After `$`, Go takes the longest run of letters, digits and
 * `_` as the group name (so `$1x` names group "1x"), or a `{…}` name; `$$` is a literal `$`;
 * a `$` not followed by a valid reference is kept as text.
 */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = "";
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf("$", i);
    if (dollar < 0) break;
    text += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === "$") {
      text += "$";
      i++;
      continue;
    }
    const ref = readReference(template, i);
    if (ref === null) {
      text += "$";
      continue;
    }
    if (text !== "") parts.push({ text });
    text = "";
    parts.push(ref.part);
    i = ref.end;
  }
  text += template.slice(i);
  if (text !== "") parts.push({ text });
  return parts;
}

function readReference(template: string, start: number): { part: TemplatePart; end: number } | null {
  const braced = template[start] === "{";
  const nameStart = braced ? start + 1 : start;
  NAME_CHARS.lastIndex = nameStart;
  const name = (NAME_CHARS.exec(template) as RegExpExecArray)[0];
  if (name === "") return null;
  let end = nameStart + name.length;
  if (braced) {
    if (template[end] !== "}") return null;
    end++;
  }
  return { part: referencePart(name), end };
}

/** Go reads a name of ASCII digits, without a leading zero and below 1e8, as a group number. */
function referencePart(name: string): TemplatePart {
  const isNumber = /^[0-9]+$/.test(name) && !(name.length > 1 && name[0] === "0") && name.length <= 8;
  return isNumber ? { group: Number(name) } : { name };
}

/** Expands a parsed template against a match; unknown or unmatched groups expand to "". */
export function expandTemplate(parts: readonly TemplatePart[], match: RegexMatch): string {
  let out = "";
  for (const part of parts) {
    if ("text" in part) out += part.text;
    else if ("group" in part) out += match.group(part.group) ?? "";
    else out += match.named(part.name) ?? "";
  }
  return out;
}
