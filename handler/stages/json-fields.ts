/**
 * The top-level fields of a JSON object line, read without building the object: what a `json`
 * stage whose expressions are all top-level fields needs from every line. `JSON.parse` builds
 * every field's value (a line of the CloudWatch benchmark: an object of nine properties and seven
 * strings, 410 bytes, of which the stage reads four); the garbage it leaves is most of what a
 * staged entry allocates, and the young-generation collections it brings forward copy the entries
 * still batched.
 *
 * The reading is exact or declines: it answers only for text it can prove is a JSON object
 * (RFC 8259, as strictly as JSON.parse) and whose strings it can take as they are written, i.e.
 * text without a backslash and without control characters; for anything else (an escape, a tab
 * or newline between tokens, nesting deeper than MAX_DEPTH) it answers undefined and the caller
 * parses the text with JSON.parse. Its values are JSON.parse's: a string is the text between its
 * quotes, a number `Number` of its text (both read a JSON number the same, correctly rounded),
 * a repeated key's last value; a nested object or array is parsed from its text. Strings are
 * skipped with indexOf (a native search) rather than character by character: a hand-written
 * scanner that read every character ran slower than JSON.parse.
 */

/** A backslash or a control character (U+0000-U+001F) anywhere: the text is left to JSON.parse. */
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings: finding one is the point
const NOT_VERBATIM = /[\u0000-\u001f\\]/;

const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const SPACE = 0x20;

/** Nesting deeper than this is left to JSON.parse (the open containers are held in `open`). */
const MAX_DEPTH = 64;
const open = new Uint8Array(MAX_DEPTH);

/** What `readTopLevelFields` writes for a field the object does not have (JMESPath's null). */
const ABSENT = null;

/**
 * When `text` is a JSON object readable verbatim (see above): writes the value of each of
 * `fields` into `values` (null when the object has no such field; objects and arrays through
 * `nested`, which receives JSON.parse's value) and answers true. Otherwise answers false, having
 * written nothing that counts: the caller parses the text.
 */
export function readTopLevelFields(text: string, fields: readonly string[], values: unknown[], nested: (value: object) => unknown): boolean {
  if (NOT_VERBATIM.test(text)) return false;
  for (let f = 0; f < fields.length; f++) values[f] = ABSENT;
  const end = text.length;
  let i = skipSpaces(text, 0);
  if (text.charCodeAt(i) !== LBRACE) return false;
  i = skipSpaces(text, i + 1);
  if (text.charCodeAt(i) === RBRACE) return skipSpaces(text, i + 1) === end;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return false;
    const keyStart = i + 1;
    const keyEnd = text.indexOf('"', keyStart);
    if (keyEnd < 0) return false;
    // Compact JSON has no spaces: each skip is tried only where there is one.
    i = keyEnd + 1;
    if (text.charCodeAt(i) === SPACE) i = skipSpaces(text, i);
    if (text.charCodeAt(i) !== COLON) return false;
    let valueStart = i + 1;
    if (text.charCodeAt(valueStart) === SPACE) valueStart = skipSpaces(text, valueStart);
    let valueEnd: number;
    if (text.charCodeAt(valueStart) === QUOTE) {
      valueEnd = text.indexOf('"', valueStart + 1) + 1;
      if (valueEnd === 0) return false;
    } else {
      valueEnd = skipValue(text, valueStart);
      if (valueEnd < 0) return false;
    }
    // A wanted key (every expression naming it): its value, the last one if the key repeats.
    const keyLength = keyEnd - keyStart;
    for (let f = 0; f < fields.length; f++) {
      const field = fields[f];
      if (field.length === keyLength && text.startsWith(field, keyStart)) values[f] = valueAt(text, valueStart, valueEnd, nested);
    }
    i = valueEnd;
    if (text.charCodeAt(i) === SPACE) i = skipSpaces(text, i);
    const c = text.charCodeAt(i);
    if (c === RBRACE) return skipSpaces(text, i + 1) === end;
    if (c !== COMMA) return false;
    i++;
    if (text.charCodeAt(i) === SPACE) i = skipSpaces(text, i);
  }
}

/** Verbatim text has no tab, newline or carriage return: the only JSON whitespace left is the space. */
function skipSpaces(text: string, i: number): number {
  while (text.charCodeAt(i) === SPACE) i++;
  return i;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/** The value whose text is start..end (validated by skipValue), as JSON.parse gives it. */
function valueAt(text: string, start: number, end: number, nested: (value: object) => unknown): unknown {
  const c = text.charCodeAt(start);
  if (c === QUOTE) return text.slice(start + 1, end - 1);
  if (c === LBRACE || c === LBRACKET) return nested(JSON.parse(text.slice(start, end)) as object);
  if (c === 0x74 /* t */) return true;
  if (c === 0x66 /* f */) return false;
  if (c === 0x6e /* n */) return null;
  return Number(text.slice(start, end));
}

/** The end of the JSON value starting at `i`, or -1 when there is none (or it nests too deep). */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === LBRACE || c === LBRACKET) return skipContainer(text, i);
  return skipScalar(text, i);
}

/** The end of the string, number or literal starting at `i`, or -1. */
function skipScalar(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) {
    const close = text.indexOf('"', i + 1);
    return close < 0 ? -1 : close + 1;
  }
  if (c === MINUS || isDigit(c)) return skipNumber(text, i);
  if (c === 0x74) return text.startsWith("true", i) ? i + 4 : -1;
  if (c === 0x66) return text.startsWith("false", i) ? i + 5 : -1;
  if (c === 0x6e) return text.startsWith("null", i) ? i + 4 : -1;
  return -1;
}

/** RFC 8259's number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
function skipNumber(text: string, i: number): number {
  if (text.charCodeAt(i) === MINUS) i++;
  const first = text.charCodeAt(i);
  if (first === ZERO) i++;
  else if (first > ZERO && first <= NINE) i = skipDigits(text, i + 1);
  else return -1;
  if (text.charCodeAt(i) === DOT) {
    if (!isDigit(text.charCodeAt(i + 1))) return -1;
    i = skipDigits(text, i + 2);
  }
  const e = text.charCodeAt(i);
  if (e === LOWER_E || e === UPPER_E) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === PLUS || sign === MINUS) i++;
    if (!isDigit(text.charCodeAt(i))) return -1;
    i = skipDigits(text, i + 1);
  }
  return i;
}

function skipDigits(text: string, i: number): number {
  while (isDigit(text.charCodeAt(i))) i++;
  return i;
}

/** The end of the object or array starting at `i` (validated throughout), or -1. */
function skipContainer(text: string, i: number): number {
  let depth = 0;
  for (;;) {
    // At the start of a value.
    let c = text.charCodeAt(i);
    if (c === LBRACE || c === LBRACKET) {
      if (depth === MAX_DEPTH) return -1;
      open[depth++] = c;
      i = skipSpaces(text, i + 1);
      c = text.charCodeAt(i);
      if (c === closerOf(open[depth - 1])) {
        // An empty container is a whole value: what follows it is read below.
        depth--;
        i++;
      } else {
        if (open[depth - 1] === LBRACE) {
          i = skipKey(text, i);
          if (i < 0) return -1;
        }
        continue;
      }
    } else {
      i = skipScalar(text, i);
      if (i < 0) return -1;
    }
    // After a value: close the containers it ends, or go on to the next value.
    for (;;) {
      if (depth === 0) return i;
      i = skipSpaces(text, i);
      c = text.charCodeAt(i);
      if (c === closerOf(open[depth - 1])) {
        depth--;
        i++;
        continue;
      }
      if (c !== COMMA) return -1;
      i = skipSpaces(text, i + 1);
      if (open[depth - 1] === LBRACE) {
        i = skipKey(text, i);
        if (i < 0) return -1;
      }
      break;
    }
  }
}

function closerOf(opener: number): number {
  return opener === LBRACE ? RBRACE : RBRACKET;
}

/** Skips `"key" :` and the spaces after it; answers where the value starts, or -1. */
function skipKey(text: string, i: number): number {
  if (text.charCodeAt(i) !== QUOTE) return -1;
  const close = text.indexOf('"', i + 1);
  if (close < 0) return -1;
  i = skipSpaces(text, close + 1);
  if (text.charCodeAt(i) !== COLON) return -1;
  return skipSpaces(text, i + 1);
}
