/**
 * The linear-time regular-expression engine the stages written here use (template's regex
 * functions, match's `=~` / `!~` / `|~` / `!~`): RE2 syntax and semantics through `re2js`, a
 * JavaScript port of RE2 whose matching time is linear in the input, so a crafted log line
 * cannot make a pattern backtrack for minutes.
 *
 * Kept behind these few functions so the engine can be swapped for the shared one in one place.
 */
import type { RE2JS as RE2JSClass } from "re2js";

let engine: typeof RE2JSClass | undefined;

/** re2js, loaded on the first pattern: configurations without these regexes do not pay for it. */
function re2js(): typeof RE2JSClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  engine ??= (require("re2js") as { RE2JS: typeof RE2JSClass }).RE2JS;
  return engine;
}

/** A pattern RE2 refuses. */
export class RegexSyntaxError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`invalid regular expression ${JSON.stringify(pattern)}: ${reason}`);
    this.name = "RegexSyntaxError";
  }
}

export interface LinearRegex {
  readonly source: string;
  /** Whether the pattern matches somewhere in the text (Go's MatchString). */
  test(text: string): boolean;
  /** Whether the pattern matches the whole text (Prometheus label matchers). */
  matchesWhole(text: string): boolean;
  /** Each leftmost-first, non-overlapping match with its groups (undefined: group did not take part). */
  forEachMatch(text: string, each: (start: number, end: number, groups: (string | undefined)[]) => void, limit?: number): void;
  /** Group numbers by name. */
  readonly groupNames: Readonly<Record<string, number>>;
}

function compileOrThrow(pattern: string): RE2JSClass {
  try {
    return re2js().compile(pattern);
  } catch (err) {
    throw new RegexSyntaxError(pattern, (err as Error).message.replace(/^error parsing regexp: /, ""));
  }
}

export function compileRegex(pattern: string): LinearRegex {
  const re = compileOrThrow(pattern);
  const whole = compileOrThrow(`^(?s:${pattern})$`);
  const groupCount = re.groupCount();
  const groupNames = { ...(re.namedGroups() as Record<string, number>) };
  return {
    source: pattern,
    groupNames,
    test: (text) => re.test(text),
    matchesWhole: (text) => whole.test(text),
    forEachMatch(text, each, limit = -1) {
      const m = re.matcher(text);
      let found = 0;
      while ((limit < 0 || found < limit) && m.find()) {
        found++;
        const groups: (string | undefined)[] = [];
        for (let g = 0; g <= groupCount; g++) groups.push(m.start(g) < 0 ? undefined : (m.group(g) ?? undefined));
        each(m.start(), m.end(), groups);
      }
    },
  };
}

/**
 * Go's regexp.Expand for a replacement template: `$name` / `${name}` (name = longest run of
 * letters, digits and underscores; a number is a group index), `$$` is `$`, anything else after
 * `$` is kept literally; a group that does not exist or did not match expands to "".
 */
export function expandReplacement(template: string, groups: readonly (string | undefined)[], names: Readonly<Record<string, number>>): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf("$", i);
    if (dollar < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    const rest = template.slice(dollar + 1);
    if (rest.startsWith("$")) {
      out += "$";
      i = dollar + 2;
      continue;
    }
    const m = /^\{([A-Za-z0-9_]+)\}/.exec(rest) ?? /^([A-Za-z0-9_]+)/.exec(rest);
    if (!m) {
      out += "$";
      i = dollar + 1;
      continue;
    }
    const name = m[1];
    const index = /^[0-9]+$/.test(name) ? Number(name) : names[name];
    if (index !== undefined) out += groups[index] ?? "";
    i = dollar + 1 + m[0].length;
  }
  return out;
}

/** Go's Regexp.ReplaceAllString (`literal`: ReplaceAllLiteralString). */
export function replaceAll(re: LinearRegex, text: string, replacement: string, literal: boolean): string {
  let out = "";
  let last = 0;
  let lastMatchEnd = -1;
  re.forEachMatch(text, (start, end, groups) => {
    // Go skips an empty match right after the previous match.
    if (start === end && start === lastMatchEnd) return;
    out += text.slice(last, start) + (literal ? replacement : expandReplacement(replacement, groups, re.groupNames));
    last = end;
    lastMatchEnd = end;
  });
  return out + text.slice(last);
}
