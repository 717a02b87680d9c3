/**
 * The `luhn` stage (Alloy's `stage.luhn`): replaces every run of at least `min_length` digits
 * (default 13) that passes the Luhn checksum, i.e. a likely payment-card number, with
 * `replacement` (default "**REDACTED**"), in the line or in `source`. Runs of digits separated
 * by spaces or dashes are not joined (as in Alloy): mask those with a `replace` stage.
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

export function redactLuhn(input: string, replacement: string, minLength: number): string {
  let out = "";
  let copied = 0;
  let i = 0;
  while (i < input.length) {
    if (!isDigit(input.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < input.length && isDigit(input.charCodeAt(i))) i++;
    if (i - start >= minLength && luhnValid(input, start, i)) {
      out += input.slice(copied, start) + replacement;
      copied = i;
    }
  }
  return copied === 0 ? input : out + input.slice(copied);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** The Luhn checksum: doubling every second digit from the right, the sum is a multiple of 10. */
export function luhnValid(digits: string, start = 0, end = digits.length): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= start; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
