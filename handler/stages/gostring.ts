/**
 * Go's interpreted string literals ("…" with Go's escapes) and raw strings (`…`), as
 * strconv.Unquote reads them: used by the template engine and the LogQL selector parser.
 */

/** A literal that does not read; `at` is the offset in the source text. */
export class GoStringError extends Error {
  constructor(
    readonly reason: string,
    readonly at: number,
  ) {
    super(reason);
    this.name = "GoStringError";
  }
}

const SIMPLE: Readonly<Record<string, string>> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\" };

/**
 * Reads the literal starting at `src[start]` (a `"`, `` ` `` or `'`), not past `end`.
 * Returns its value (for `'`, the character) and the offset just after it.
 */
export function readGoLiteral(src: string, start: number, end = src.length): { value: string; next: number } {
  const quote = src[start];
  if (quote === "`") {
    const close = src.indexOf("`", start + 1);
    if (close < 0 || close >= end) throw new GoStringError("unterminated raw quoted string", start);
    return { value: src.slice(start + 1, close).replace(/\r/g, ""), next: close + 1 };
  }
  let i = start + 1;
  let out = "";
  for (;;) {
    if (i >= end || src[i] === "\n") throw new GoStringError(quote === "'" ? "unterminated character constant" : "unterminated quoted string", start);
    const c = src[i];
    if (c === quote) break;
    if (c !== "\\") {
      const cp = src.codePointAt(i)!;
      out += String.fromCodePoint(cp);
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = src[i + 1];
    if (e !== undefined && e in SIMPLE) {
      out += SIMPLE[e];
      i += 2;
    } else if (e === quote) {
      out += quote;
      i += 2;
    } else if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      const digits = src.slice(i + 2, i + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) throw new GoStringError("invalid syntax in escape sequence", i);
      const cp = parseInt(digits, 16);
      if (e !== "x" && (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))) throw new GoStringError("invalid Unicode code point in escape sequence", i);
      out += e === "x" ? String.fromCharCode(cp) : String.fromCodePoint(cp); // \x is a byte: Latin-1 here
      i += 2 + n;
    } else if (e !== undefined && e >= "0" && e <= "7") {
      const digits = src.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(digits) || parseInt(digits, 8) > 255) throw new GoStringError("invalid syntax in escape sequence", i);
      out += String.fromCharCode(parseInt(digits, 8));
      i += 4;
    } else throw new GoStringError("invalid syntax in escape sequence", i);
  }
  if (quote === "'" && Array.from(out).length !== 1) throw new GoStringError(out === "" ? "empty character constant" : "more than one character in character constant", start);
  return { value: out, next: i + 1 };
}
