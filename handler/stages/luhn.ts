/**
 * The `luhn` stage (Alloy's `stage.luhn`; Promtail has none): replaces every likely
 * payment-card number with `replacement` (default "**REDACTED**"), in the line or in `source`.
 *
 * A number is a run of at least `min_length` digits (default 13) passing the Luhn checksum, as
 * in Alloy, or, beyond Alloy, digit groups written the way card numbers are printed: groups of
 * 3 to 6 digits joined by single spaces or by single dashes (one kind per number), 13 to 19
 * digits in all (ISO/IEC 7812) and at least `min_length`, e.g. `4111 1111 1111 1111`,
 * `4111-1111-1111-1111`, `3782 822463 10005`. Within a longer run of groups, the longest
 * window of consecutive groups that passes is masked, so a card number next to a year or an
 * order number is still found.
 */
import { StageOptions } from "./stage-options";
import { readSource, SOURCE_FORM, writeSource } from "./source";
import type { Stage, StageFactory } from "./types";

export const luhnStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["replacement", "source", "min_length"]);
  const replacement = options.string("replacement", "the text written instead of a card number", "**REDACTED**");
  const source = options.string("source", SOURCE_FORM);
  const minLength = options.integer("min_length", "a whole number of digits, at least 2 (default 13)", 2) ?? 13;
  return {
    name: "luhn",
    process(entry) {
      const input = readSource(entry, source);
      if (input === undefined) return undefined;
      const out = redactLuhn(input, replacement, minLength);
      if (out !== input) writeSource(entry, source, out);
      return undefined;
    },
  } satisfies Stage;
};

/** Digits of a printed card number: 13 to 19 (ISO/IEC 7812). */
const MAX_CARD_DIGITS = 19;
const MIN_CARD_DIGITS = 13;
/** A printed card number's groups have 3 to 6 digits (4-4-4-4, 4-6-5, 4-4-4-4-3). */
const MIN_GROUP = 3;
const MAX_GROUP = 6;
/** Most groups a printed card number can have: 19 digits in groups of at least 3. */
const MAX_GROUPS = Math.floor(MAX_CARD_DIGITS / MIN_GROUP);

/** A maximal run of digits: [start, end). */
interface Run {
  start: number;
  end: number;
}

export function redactLuhn(input: string, replacement: string, minLength: number): string {
  let out = "";
  let copied = 0;
  let i = 0;
  while (i < input.length) {
    if (!isDigit(input.charCodeAt(i))) {
      i++;
      continue;
    }
    // A chain: digit runs joined by one separator each, the same separator throughout.
    const chain: Run[] = [];
    let separator = -1;
    for (;;) {
      const start = i;
      while (i < input.length && isDigit(input.charCodeAt(i))) i++;
      chain.push({ start, end: i });
      const next = input.charCodeAt(i);
      if ((next !== 32 && next !== 45) || (separator !== -1 && next !== separator) || !isDigit(input.charCodeAt(i + 1))) break;
      separator = next;
      i++;
    }
    for (let g = 0; g < chain.length; ) {
      const last = cardEnding(input, chain, g, minLength);
      if (last < 0) {
        g++;
        continue;
      }
      out += input.slice(copied, chain[g].start) + replacement;
      copied = chain[last].end;
      g = last + 1;
    }
  }
  return copied === 0 ? input : out + input.slice(copied);
}

/**
 * The last group of the longest card number starting at group `first` of `chain`, or -1: a
 * single run of at least `minLength` digits, or printed groups (see the module comment).
 */
function cardEnding(input: string, chain: readonly Run[], first: number, minLength: number): number {
  for (let last = Math.min(chain.length - 1, first + MAX_GROUPS - 1); last > first; last--) {
    let digits = 0;
    let grouped = true;
    for (let g = first; g <= last && grouped; g++) {
      const size = chain[g].end - chain[g].start;
      grouped = size >= MIN_GROUP && size <= MAX_GROUP;
      digits += size;
    }
    if (grouped && digits >= Math.max(minLength, MIN_CARD_DIGITS) && digits <= MAX_CARD_DIGITS && luhnValidRuns(input, chain, first, last)) return last;
  }
  const run = chain[first];
  return run.end - run.start >= minLength && luhnValid(input, run.start, run.end) ? first : -1;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** The Luhn checksum over the digits of runs first..last, read as one number. */
function luhnValidRuns(input: string, chain: readonly Run[], first: number, last: number): boolean {
  let sum = 0;
  let double = false;
  for (let g = last; g >= first; g--) {
    for (let i = chain[g].end - 1; i >= chain[g].start; i--) {
      let d = input.charCodeAt(i) - 48;
      if (double) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
      double = !double;
    }
  }
  return sum % 10 === 0;
}

/** The Luhn checksum: doubling every second digit from the right, the sum is a multiple of 10. */
export function luhnValid(digits: string, start = 0, end = digits.length): boolean {
  return luhnValidRuns(digits, [{ start, end }], 0, 0);
}
