/**
 * Go's `time.Parse` / `time.ParseInLocation` with reference layouts
 * ("2006-01-02T15:04:05.999999999Z07:00"), as Promtail's `timestamp` stage uses them, plus the
 * named formats Promtail accepts (RFC3339, UnixMs, ...).
 *
 * Results are instants as whole seconds + nanoseconds, never a float, so nanosecond layouts keep
 * their precision. The layout is compiled once (split into literal text and elements, as Go's
 * `nextStdChunk` finds them); parsing then walks the elements like Go's `parse`, with the same
 * leniencies: runs of spaces match runs of spaces, a fractional second is accepted after the
 * seconds even when the layout has none, `_2` takes an optional leading space, weekday names are
 * checked and ignored, "UTC" is always UTC.
 *
 * Time zones come from Node's ICU (`Intl`), not from Go's tzdata:
 * - An IANA `location` resolves wall-clock times the way Go's `time.Date` does (the offset in
 *   effect at the wall clock read as UTC, corrected once if that crosses a transition).
 * - A zone abbreviation in the value (layout element `MST`) resolves against the location only
 *   when ICU names it the same way (EST/EDT, CST, PST, CET/CEST, GMT/BST, ...); otherwise it
 *   counts as offset 0 with Go's rule for unknown abbreviations ("GMT+3" means +3 h). Without a
 *   location, Go resolves abbreviations against the machine's zone, which is UTC in Lambda, so
 *   only "UTC" and "GMT±h" carry an offset there, as here.
 */

export interface Instant {
  sec: number;
  nsec: number;
}

/** A value that does not match its layout; the message names what did not match. */
export class TimeParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeParseError";
  }
}

/** Go's predefined layouts (package time constants). */
export const GO_LAYOUTS: Readonly<Record<string, string>> = {
  ANSIC: "Mon Jan _2 15:04:05 2006",
  UnixDate: "Mon Jan _2 15:04:05 MST 2006",
  RubyDate: "Mon Jan 02 15:04:05 -0700 2006",
  RFC822: "02 Jan 06 15:04 MST",
  RFC822Z: "02 Jan 06 15:04 -0700",
  RFC850: "Monday, 02-Jan-06 15:04:05 MST",
  RFC1123: "Mon, 02 Jan 2006 15:04:05 MST",
  RFC1123Z: "Mon, 02 Jan 2006 15:04:05 -0700",
  RFC3339: "2006-01-02T15:04:05Z07:00",
  RFC3339Nano: "2006-01-02T15:04:05.999999999Z07:00",
  Kitchen: "3:04PM",
  Stamp: "Jan _2 15:04:05",
  StampMilli: "Jan _2 15:04:05.000",
  StampMicro: "Jan _2 15:04:05.000000",
  StampNano: "Jan _2 15:04:05.000000000",
};

/** Layouts Promtail names and parses with `time.Parse`, ignoring `location` (its behaviour, kept). */
const PROMTAIL_NAMED = new Set([
  "ANSIC",
  "UnixDate",
  "RubyDate",
  "RFC822",
  "RFC822Z",
  "RFC850",
  "RFC1123",
  "RFC1123Z",
  "RFC3339",
  "RFC3339Nano",
]);

/** Epoch formats: name -> how many decimal digits the integer has below one second. */
const EPOCH_FORMATS: Readonly<Record<string, number>> = { UnixMs: 3, UnixUs: 6, UnixNs: 9 };

/** Every name `format` / `fallback_formats` accept besides a layout. */
export const NAMED_TIME_FORMATS: readonly string[] = [...Object.keys(GO_LAYOUTS), "Unix", ...Object.keys(EPOCH_FORMATS)];

// ---------------------------------------------------------------------------------------------
// Locations

/** A time zone: UTC or an IANA zone resolved through ICU. */
export interface Location {
  readonly name: string;
  /** Offset east of UTC in seconds at the given instant. */
  offsetAt(unixSec: number): number;
  /** The offset this zone uses under that abbreviation near the instant, if it uses it. */
  lookupAbbreviation(abbreviation: string, unixSec: number): number | undefined;
}

export const UTC: Location = {
  name: "UTC",
  offsetAt: () => 0,
  lookupAbbreviation: (abbreviation) => (abbreviation === "UTC" ? 0 : undefined),
};

class IanaLocation implements Location {
  private readonly parts: Intl.DateTimeFormat;
  private readonly abbreviations: Intl.DateTimeFormat[];
  /** Offsets per quarter hour: zone transitions fall on quarter hours since the 1970s. */
  private readonly offsets = new Map<number, number>();

  constructor(readonly name: string) {
    this.parts = new Intl.DateTimeFormat("en-US", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      era: "short",
    });
    // en-US names the North American zones (EST, PDT), en-GB the European ones (CET, BST).
    this.abbreviations = ["en-US", "en-GB"].map(
      (locale) => new Intl.DateTimeFormat(locale, { timeZone: name, timeZoneName: "short" }),
    );
  }

  offsetAt(unixSec: number): number {
    const bucket = Math.floor(unixSec / 900);
    let offset = this.offsets.get(bucket);
    if (offset === undefined) {
      offset = this.computeOffset(bucket * 900);
      if (this.offsets.size >= 4096) this.offsets.clear();
      this.offsets.set(bucket, offset);
    }
    return offset;
  }

  private computeOffset(unixSec: number): number {
    const f: Record<string, string> = {};
    for (const p of this.parts.formatToParts(new Date(unixSec * 1000))) f[p.type] = p.value;
    let year = Number(f.year);
    if (f.era === "BC" || f.era === "B") year = 1 - year;
    const wall = daysFromCivil(year, Number(f.month), Number(f.day)) * 86400 + Number(f.hour) * 3600 + Number(f.minute) * 60 + Number(f.second);
    return wall - unixSec;
  }

  lookupAbbreviation(abbreviation: string, unixSec: number): number | undefined {
    // Like Go's lookupName: the zone in effect at that time first, then the zone's other
    // (standard / daylight) name half a year away.
    for (const at of [unixSec, unixSec + 182 * 86400, unixSec - 182 * 86400]) {
      const date = new Date(at * 1000);
      for (const format of this.abbreviations) {
        const name = format.formatToParts(date).find((p) => p.type === "timeZoneName")?.value;
        if (name === abbreviation) return this.offsetAt(at);
      }
    }
    return undefined;
  }
}

/**
 * Go's `time.LoadLocation`: "" and "UTC" are UTC, "Local" is the machine's zone (UTC in Lambda),
 * anything else an IANA zone name. Throws an Error with Go-like wording for unknown names.
 */
export function loadLocation(name: string): Location {
  if (name === "" || name === "UTC" || name === "Local") return UTC;
  // ICU also accepts offsets like "+01:00"; Go does not, and they are not zone names.
  if (!/^[A-Za-z]/.test(name)) throw new Error(`unknown time zone ${name}`);
  try {
    return new IanaLocation(name);
  } catch {
    throw new Error(`unknown time zone ${name}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, as Go's)

/** Days since 1970-01-01 of a civil date; months and days out of range carry over like Go's Date. */
export function daysFromCivil(year: number, month: number, day: number): number {
  // Normalise the month into 1..12 first.
  const m0 = month - 1;
  year += Math.floor(m0 / 12);
  month = (((m0 % 12) + 12) % 12) + 1;
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5);
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468 + (day - 1);
}

function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

function daysIn(month: number, year: number): number {
  if (month === 2 && isLeap(year)) return 29;
  return DAYS_BEFORE[month] - DAYS_BEFORE[month - 1];
}

// ---------------------------------------------------------------------------------------------
// Layout compilation (Go's nextStdChunk)

type Elem =
  | "January" | "Jan" | "1" | "01" | "Monday" | "Mon" | "2" | "_2" | "02" | "__2" | "002"
  | "15" | "3" | "03" | "4" | "04" | "5" | "05" | "2006" | "06" | "PM" | "pm" | "MST"
  | "Z0700" | "Z070000" | "Z07" | "Z07:00" | "Z07:00:00"
  | "-0700" | "-070000" | "-07" | "-07:00" | "-07:00:00"
  | "frac0" | "frac9";

interface Chunk {
  /** Literal text before the element. */
  prefix: string;
  elem?: Elem;
  /** Digits of a `frac0` element (".000" -> 3). */
  digits?: number;
  /** The element as written in the layout, for error messages. */
  text: string;
}

const ZONE_ELEMS: readonly Elem[] = ["-070000", "-07:00:00", "-0700", "-07:00", "-07"];

function lower(c: string | undefined): boolean {
  return c !== undefined && c >= "a" && c <= "z";
}

function nextElem(layout: string, i: number): { elem: Elem; len: number; digits?: number } | undefined {
  const at = (s: string): boolean => layout.startsWith(s, i);
  switch (layout[i]) {
    case "J":
      if (at("January")) return { elem: "January", len: 7 };
      if (at("Jan") && !lower(layout[i + 3])) return { elem: "Jan", len: 3 };
      return undefined;
    case "M":
      if (at("Monday")) return { elem: "Monday", len: 6 };
      if (at("Mon") && !lower(layout[i + 3])) return { elem: "Mon", len: 3 };
      if (at("MST")) return { elem: "MST", len: 3 };
      return undefined;
    case "0": {
      const next = layout[i + 1];
      if (next !== undefined && next >= "1" && next <= "6") return { elem: ["01", "02", "03", "04", "05", "06"][Number(next) - 1] as Elem, len: 2 };
      if (at("002")) return { elem: "002", len: 3 };
      return undefined;
    }
    case "1":
      return at("15") ? { elem: "15", len: 2 } : { elem: "1", len: 1 };
    case "2":
      return at("2006") ? { elem: "2006", len: 4 } : { elem: "2", len: 1 };
    case "_":
      // "_2006" is a literal underscore followed by the year: the caller sees "2006" next.
      if (at("_2") && !at("_2006")) return { elem: "_2", len: 2 };
      if (at("__2")) return { elem: "__2", len: 3 };
      return undefined;
    case "3":
      return { elem: "3", len: 1 };
    case "4":
      return { elem: "4", len: 1 };
    case "5":
      return { elem: "5", len: 1 };
    case "P":
      return at("PM") ? { elem: "PM", len: 2 } : undefined;
    case "p":
      return at("pm") ? { elem: "pm", len: 2 } : undefined;
    case "-":
      for (const z of ZONE_ELEMS) if (at(z)) return { elem: z, len: z.length };
      return undefined;
    case "Z":
      for (const z of ZONE_ELEMS) if (at("Z" + z.slice(1))) return { elem: ("Z" + z.slice(1)) as Elem, len: z.length };
      return undefined;
    case ".":
    case ",": {
      const ch = layout[i + 1];
      if (ch !== "0" && ch !== "9") return undefined;
      let j = i + 1;
      while (layout[j] === ch) j++;
      // The run of digits must end here: only a fractional second is all 0s or 9s.
      if (isDigitAt(layout, j)) return undefined;
      return { elem: ch === "0" ? "frac0" : "frac9", len: j - i, digits: j - i - 1 };
    }
    default:
      return undefined;
  }
}

function compileLayout(layout: string): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  let i = 0;
  while (i < layout.length) {
    const found = nextElem(layout, i);
    if (!found) {
      i++;
      continue;
    }
    chunks.push({ prefix: layout.slice(start, i), elem: found.elem, digits: found.digits, text: layout.slice(i, i + found.len) });
    i += found.len;
    start = i;
  }
  chunks.push({ prefix: layout.slice(start), text: "" });
  return chunks;
}

/** How many reference-time elements a layout has (none: it only matches its own text). */
export function layoutElementCount(layout: string): number {
  return compileLayout(layout).length - 1;
}

// ---------------------------------------------------------------------------------------------
// Parsing (Go's parse)

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** Go's time.atoi: optional sign, then only digits. Returns undefined when it is not a number. */
function atoi(s: string): number | undefined {
  let neg = false;
  if (s[0] === "-" || s[0] === "+") {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (!/^[0-9]*$/.test(s) || s.length > 18) return undefined;
  const n = s === "" ? 0 : Number(s);
  return neg ? -n : n;
}

/** Go's getnum: one or two digits (exactly two when `fixed`). */
function getnum(s: string, fixed: boolean): [number, string] | undefined {
  if (!isDigitAt(s, 0)) return undefined;
  if (!isDigitAt(s, 1)) return fixed ? undefined : [s.charCodeAt(0) - 48, s.slice(1)];
  return [(s.charCodeAt(0) - 48) * 10 + (s.charCodeAt(1) - 48), s.slice(2)];
}

function getnum3(s: string, fixed: boolean): [number, string] | undefined {
  let n = 0;
  let i = 0;
  for (; i < 3 && isDigitAt(s, i); i++) n = n * 10 + (s.charCodeAt(i) - 48);
  if (i === 0 || (fixed && i !== 3)) return undefined;
  return [n, s.slice(i)];
}

function cutspace(s: string): string {
  let i = 0;
  while (s[i] === " ") i++;
  return s.slice(i);
}

/** Removes the literal `prefix` from `value`, a run of spaces matching a run of spaces. */
function skip(value: string, prefix: string): string | undefined {
  while (prefix.length > 0) {
    if (prefix[0] === " ") {
      if (value.length > 0 && value[0] !== " ") return undefined;
      prefix = cutspace(prefix);
      value = cutspace(value);
      continue;
    }
    if (value.length === 0 || value[0] !== prefix[0]) return undefined;
    prefix = prefix.slice(1);
    value = value.slice(1);
  }
  return value;
}

const SHORT_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LONG_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const SHORT_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** Case-insensitive lookup of a name at the start of `value` (Go's lookup). */
function lookup(table: readonly string[], value: string): [number, string] | undefined {
  for (let i = 0; i < table.length; i++) {
    const name = table[i];
    if (value.length >= name.length && value.slice(0, name.length).toLowerCase() === name.toLowerCase()) return [i, value.slice(name.length)];
  }
  return undefined;
}

/** Go's parseNanoseconds: `value` starts with the separator; at most 9 digits count. */
function parseNanoseconds(value: string, nbytes: number): number | "range" | undefined {
  if (value[0] !== "." && value[0] !== ",") return undefined;
  if (nbytes > 10) nbytes = 10;
  const ns = atoi(value.slice(1, nbytes));
  if (ns === undefined) return undefined;
  if (ns < 0) return "range";
  return ns * 10 ** (10 - nbytes);
}

/** Go's parseTimeZone: the length of a zone abbreviation at the start of `value`, or 0. */
function timeZoneLength(value: string): number {
  if (value.length < 3) return 0;
  if (value.startsWith("ChST") || value.startsWith("MeST")) return 4;
  if (value.startsWith("GMT")) return 3 + signedOffsetLength(value.slice(3));
  if (value[0] === "+" || value[0] === "-") return signedOffsetLength(value);
  let upper = 0;
  while (upper < 6 && upper < value.length && value[upper] >= "A" && value[upper] <= "Z") upper++;
  if (upper === 3) return 3;
  if (upper === 4 && (value[3] === "T" || value.startsWith("WITA"))) return 4;
  if (upper === 5 && value[4] === "T") return 5;
  return 0;
}

/** A sign followed by a number of hours 0..23 ("+03"), as Go's parseSignedOffset. */
function signedOffsetLength(value: string): number {
  const m = /^[+-]([0-9]+)/.exec(value);
  if (!m || Number(m[1]) > 23) return 0;
  return m[0].length;
}

/** What a layout found in a value, before the zone is applied. */
interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  min: number;
  sec: number;
  nsec: number;
  utc: boolean;
  /** Seconds east of UTC, when the value had a numeric offset. */
  offset?: number;
  abbreviation?: string;
}

function fail(layout: string, value: string, elem: string, rest: string, message = ""): TimeParseError {
  if (message) return new TimeParseError(`parsing time ${JSON.stringify(value)}${message}`);
  return new TimeParseError(`parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(elem)}`);
}

function parseFields(layout: string, chunks: readonly Chunk[], input: string): Fields {
  let value = input;
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let pm = false;
  let am = false;
  let utc = false;
  let offset: number | undefined;
  let abbreviation: string | undefined;

  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c];
    const rest = skip(value, chunk.prefix);
    if (rest === undefined) throw fail(layout, input, chunk.prefix, value);
    value = rest;
    const elem = chunk.elem;
    if (!elem) {
      if (value.length !== 0) throw fail(layout, input, "", value, `: extra text: ${JSON.stringify(value)}`);
      break;
    }
    const hold = value;
    let range = "";
    let bad = false;
    /** Reads a fractional second of `n` characters, separator included. */
    const fraction = (n: number): void => {
      const ns = parseNanoseconds(value, n);
      if (ns === "range") range = "fractional second";
      else if (ns === undefined) bad = true;
      else nsec = ns;
      value = value.slice(n);
    };
    const num = (fixed: boolean): number => {
      const r = getnum(value, fixed);
      if (!r) {
        bad = true;
        return 0;
      }
      value = r[1];
      return r[0];
    };
    switch (elem) {
      case "06": {
        const y = value.length < 2 ? undefined : atoi(value.slice(0, 2));
        if (y === undefined) bad = true;
        else {
          value = value.slice(2);
          year = y >= 69 ? y + 1900 : y + 2000;
        }
        break;
      }
      case "2006": {
        const y = value.length < 4 || !isDigitAt(value, 0) ? undefined : atoi(value.slice(0, 4));
        if (y === undefined) bad = true;
        else {
          value = value.slice(4);
          year = y;
        }
        break;
      }
      case "Jan":
      case "January": {
        const r = lookup(elem === "Jan" ? SHORT_MONTHS : LONG_MONTHS, value);
        if (!r) bad = true;
        else [month, value] = [r[0] + 1, r[1]];
        break;
      }
      case "1":
      case "01":
        month = num(elem === "01");
        if (!bad && (month <= 0 || month > 12)) range = "month";
        break;
      case "Mon":
      case "Monday": {
        const r = lookup(elem === "Mon" ? SHORT_DAYS : LONG_DAYS, value);
        if (!r) bad = true;
        else value = r[1];
        break;
      }
      case "2":
      case "_2":
      case "02":
        if (elem === "_2" && value[0] === " ") value = value.slice(1);
        day = num(elem === "02");
        break;
      case "__2":
      case "002": {
        if (elem === "__2") for (let i = 0; i < 2 && value[0] === " "; i++) value = value.slice(1);
        const r = getnum3(value, elem === "002");
        if (!r) bad = true;
        else [yday, value] = r;
        break;
      }
      case "15":
        hour = num(false);
        if (hour < 0 || hour >= 24) range = "hour";
        break;
      case "3":
      case "03":
        hour = num(elem === "03");
        if (hour < 0 || hour > 12) range = "hour";
        break;
      case "4":
      case "04":
        min = num(elem === "04");
        if (min < 0 || min >= 60) range = "minute";
        break;
      case "5":
      case "05":
        sec = num(elem === "05");
        if (bad) break;
        if (sec < 0 || sec >= 60) {
          range = "second";
          break;
        }
        // A fractional second in the value although the layout has none after the seconds.
        if (value.length >= 2 && (value[0] === "." || value[0] === ",") && isDigitAt(value, 1)) {
          if (isNextFrac(chunks, c)) break; // the layout's own fractional element reads it
          let n = 2;
          while (n < value.length && isDigitAt(value, n)) n++;
          fraction(n);
        }
        break;
      case "PM":
      case "pm": {
        const p = value.slice(0, 2);
        if (value.length < 2) bad = true;
        else if (p === (elem === "PM" ? "PM" : "pm")) pm = true;
        else if (p === (elem === "PM" ? "AM" : "am")) am = true;
        else bad = true;
        value = value.slice(2);
        break;
      }
      case "Z0700":
      case "Z070000":
      case "Z07":
      case "Z07:00":
      case "Z07:00:00":
      case "-0700":
      case "-070000":
      case "-07":
      case "-07:00":
      case "-07:00:00": {
        if (elem[0] === "Z" && value[0] === "Z") {
          value = value.slice(1);
          utc = true;
          break;
        }
        const shape = elem.slice(1);
        let hh = "";
        let mm = "00";
        let ss = "00";
        if (shape === "07:00") {
          if (value.length < 6 || value[3] !== ":") bad = true;
          else [hh, mm] = [value.slice(1, 3), value.slice(4, 6)];
        } else if (shape === "07") {
          if (value.length < 3) bad = true;
          else hh = value.slice(1, 3);
        } else if (shape === "07:00:00") {
          if (value.length < 9 || value[3] !== ":" || value[6] !== ":") bad = true;
          else [hh, mm, ss] = [value.slice(1, 3), value.slice(4, 6), value.slice(7, 9)];
        } else if (shape === "070000") {
          if (value.length < 7) bad = true;
          else [hh, mm, ss] = [value.slice(1, 3), value.slice(3, 5), value.slice(5, 7)];
        } else if (value.length < 5) bad = true;
        else [hh, mm] = [value.slice(1, 3), value.slice(3, 5)];
        if (bad) break;
        const sign = value[0];
        value = value.slice(shape.length + 1);
        const h = getnum(hh, true);
        const m = getnum(mm, true);
        const s = getnum(ss, true);
        if (!h || !m || !s) {
          bad = true;
          break;
        }
        // Go accepts 24 hours, 60 minutes and 60 seconds in offsets.
        if (h[0] > 24) range = "time zone offset hour";
        if (m[0] > 60) range = "time zone offset minute";
        if (s[0] > 60) range = "time zone offset second";
        const seconds = (h[0] * 60 + m[0]) * 60 + s[0];
        if (sign === "+") offset = seconds;
        else if (sign === "-") offset = -seconds;
        else bad = true;
        break;
      }
      case "MST": {
        if (value.startsWith("UTC")) {
          utc = true;
          value = value.slice(3);
          break;
        }
        const n = timeZoneLength(value);
        if (n === 0) bad = true;
        else [abbreviation, value] = [value.slice(0, n), value.slice(n)];
        break;
      }
      case "frac0": {
        const n = 1 + (chunk.digits ?? 0);
        if (value.length < n) {
          bad = true;
          break;
        }
        fraction(n);
        break;
      }
      case "frac9": {
        if (value.length < 2 || (value[0] !== "." && value[0] !== ",") || !isDigitAt(value, 1)) break; // omitted
        let i = 0;
        while (i + 1 < value.length && isDigitAt(value, i + 1)) i++;
        fraction(1 + i);
        break;
      }
    }
    if (range) throw fail(layout, input, chunk.text, value, `: ${range} out of range`);
    if (bad) throw fail(layout, input, chunk.text, hold);
  }

  if (pm && hour < 12) hour += 12;
  else if (am && hour === 12) hour = 0;

  if (yday >= 0) {
    let m = 0;
    let d = 0;
    if (isLeap(year)) {
      if (yday === 31 + 29) [m, d] = [2, 29];
      else if (yday > 31 + 29) yday--;
    }
    if (yday < 1 || yday > 365) throw fail(layout, input, "", value, ": day-of-year out of range");
    if (m === 0) {
      m = Math.floor((yday - 1) / 31) + 1;
      if (DAYS_BEFORE[m] < yday) m++;
      d = yday - DAYS_BEFORE[m - 1];
    }
    if (month >= 0 && month !== m) throw fail(layout, input, "", value, ": day-of-year does not match month");
    if (day >= 0 && day !== d) throw fail(layout, input, "", value, ": day-of-year does not match day");
    [month, day] = [m, d];
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > daysIn(month, year)) throw fail(layout, input, "", value, ": day out of range");
  return { year, month, day, hour, min, sec, nsec, utc, offset, abbreviation };
}

/** Whether the first element after chunk `c` is a fractional second (Go asks nextStdChunk). */
function isNextFrac(chunks: readonly Chunk[], c: number): boolean {
  const next = chunks[c + 1]?.elem;
  return next === "frac0" || next === "frac9";
}

/** Seconds since the epoch of a wall clock read as UTC. */
function wallSeconds(f: Fields): number {
  return daysFromCivil(f.year, f.month, f.day) * 86400 + f.hour * 3600 + f.min * 60 + f.sec;
}

/** The instant of parsed fields, with Go's zone precedence: Z/UTC, numeric offset, abbreviation, location. */
function resolve(f: Fields, location: Location): Instant {
  const wall = wallSeconds(f);
  if (f.utc) return { sec: wall, nsec: f.nsec };
  if (f.offset !== undefined) return { sec: wall - f.offset, nsec: f.nsec };
  if (f.abbreviation !== undefined) {
    const known = location.lookupAbbreviation(f.abbreviation, wall);
    if (known !== undefined) return { sec: wall - known, nsec: f.nsec };
    // Unknown abbreviation: offset 0, except "GMT+h" / "GMT-h".
    const gmt = /^GMT([+-][0-9]+)$/.exec(f.abbreviation);
    return { sec: wall - (gmt ? Number(gmt[1]) * 3600 : 0), nsec: f.nsec };
  }
  // Go's Date: the offset at the wall clock read as UTC, corrected once across a transition.
  const first = location.offsetAt(wall);
  const second = location.offsetAt(wall - first);
  return { sec: wall - second, nsec: f.nsec };
}

// ---------------------------------------------------------------------------------------------
// Epoch formats (Promtail's Unix, UnixMs, UnixUs, UnixNs)

const INT64_MAX = "9223372036854775807";

/** Go's strconv.ParseInt(s, 10, 64) as sign + digit string. */
function parseInt64(s: string, format: string): { neg: boolean; digits: string } {
  const m = /^([+-]?)([0-9]+)$/.exec(s);
  if (!m) throw new TimeParseError(`parsing ${JSON.stringify(s)} as ${format}: invalid syntax`);
  const neg = m[1] === "-";
  const digits = m[2].replace(/^0+(?=.)/, "");
  const max = neg ? "9223372036854775808" : INT64_MAX;
  if (digits.length > max.length || (digits.length === max.length && digits > max)) {
    throw new TimeParseError(`parsing ${JSON.stringify(s)} as ${format}: value out of range`);
  }
  return { neg, digits };
}

/** An integer count of 10^-scale seconds (as sign + digits) as an instant. */
function fromScaled(neg: boolean, digits: string, scale: number): Instant {
  const padded = digits.padStart(scale + 1, "0");
  const whole = Number(padded.slice(0, padded.length - scale));
  const frac = scale === 0 ? 0 : Number(padded.slice(padded.length - scale).padEnd(9, "0"));
  if (!neg) return { sec: whole, nsec: frac };
  return frac === 0 ? { sec: -whole || 0, nsec: 0 } : { sec: -whole - 1, nsec: 1e9 - frac };
}

function parseUnix(value: string): Instant {
  const dots = value.split(".");
  if (dots.length !== 2) {
    const { neg, digits } = parseInt64(value, "Unix");
    return fromScaled(neg, digits, 0);
  }
  const [secText, fracText] = dots;
  const s = parseInt64(secText, "Unix");
  const f = parseInt64(fracText, "Unix");
  // Promtail scales the fraction by 10^(9 - its length, sign included) and truncates.
  const shift = 9 - fracText.length;
  let nsec = shift >= 0 ? Number(f.digits) * 10 ** shift : Number(f.digits.slice(0, Math.max(0, f.digits.length + shift)) || "0");
  if (f.neg) nsec = -nsec;
  let sec = Number(s.digits) * (s.neg ? -1 : 1);
  // time.Unix normalises nanoseconds outside 0..1e9.
  sec += Math.floor(nsec / 1e9);
  nsec = nsec - Math.floor(nsec / 1e9) * 1e9;
  return { sec, nsec };
}

// ---------------------------------------------------------------------------------------------
// Public entry

/** A compiled format: parses one value; `now` (epoch ms) is read only by year-less layouts. */
export type TimeParser = (value: string, now: () => number) => Instant;

/**
 * Compiles a Promtail timestamp format: a named format or a Go reference layout. `location`
 * applies to written-out layouts (and the year-less named ones), as in Promtail, where the named
 * formats are parsed with `time.Parse` and ignore it.
 */
export function compileTimeFormat(format: string, location: Location = UTC, options: { rfc3339FastPath?: boolean } = {}): TimeParser {
  if (format === "Unix") return (value) => parseUnix(value);
  const scale = EPOCH_FORMATS[format];
  if (scale !== undefined) {
    return (value) => {
      const { neg, digits } = parseInt64(value, format);
      return fromScaled(neg, digits, scale);
    };
  }
  const layout = GO_LAYOUTS[format] ?? format;
  const loc = PROMTAIL_NAMED.has(format) ? UTC : location;
  const chunks = compileLayout(layout);
  // Promtail's test for a layout without a year: its text contains neither "06" nor "2006".
  if (!layout.includes("06")) {
    return (value, now) => {
      const fields = parseFields(layout, chunks, value);
      fields.year = yearFor(fields.month, now());
      // Parsed in year 0 (a leap year) then moved: Feb 29 becomes Mar 1 in a common year, as Go's AddDate.
      return resolve(fields, loc);
    };
  }
  const general: TimeParser = (value) => resolve(parseFields(layout, chunks, value), loc);
  // Go's parse tries its RFC 3339 fast path first for these two layouts and falls back to the
  // general parser when it declines; so here (4 times faster on "2025-11-22T08:00:00.123Z").
  // (`rfc3339FastPath: false` leaves it out, for the tests that compare the two.)
  if (options.rfc3339FastPath !== false && isRFC3339Layout(layout)) return (value, now) => parseRFC3339(value) ?? general(value, now);
  return general;
}

function isRFC3339Layout(layout: string): boolean {
  return layout === GO_LAYOUTS.RFC3339 || layout === GO_LAYOUTS.RFC3339Nano;
}

/**
 * Whether compileTimeFormat's parser for `format` tries parseRFC3339 first (RFC3339,
 * RFC3339Nano or their layouts written out): a caller may then try parseRFC3339Into itself,
 * without an Instant per value, and call the parser only when that declines.
 */
export function triesRFC3339First(format: string): boolean {
  return format !== "Unix" && EPOCH_FORMATS[format] === undefined && isRFC3339Layout(GO_LAYOUTS[format] ?? format);
}

/** The value of the decimal digits s[from..to), or -1 when one of them is not a digit. */
function digitsValue(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** 10 ** n for the nanoseconds of a fraction of n < 10 digits. */
const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * The last valid "2006-01-02T15:04:" that parseRFC3339 read, and its seconds since the epoch: the
 * times of a log mostly share their minute, which then costs a comparison instead of five
 * numbers, two range checks and a calendar computation.
 */
let lastMinute = "";
let lastMinuteSeconds = 0;

/**
 * Go's parseRFC3339 (time/format_rfc3339.go): "2006-01-02T15:04:05[.fraction](Z|±hh:mm)" with
 * every field in range, read without the general parser's slicing. Undefined when the value has
 * any other shape; the caller then asks the general parser, which gives the same instant for
 * every value accepted here (tests/stages-timestamp.test.ts compares the two).
 */
export function parseRFC3339(s: string): Instant | undefined {
  const at: Instant = { sec: 0, nsec: 0 };
  return parseRFC3339Into(s, at) ? at : undefined;
}

/** parseRFC3339 writing the instant into `at`: false (and `at` unchanged) where parseRFC3339 answers undefined. */
export function parseRFC3339Into(s: string, at: Instant): boolean {
  if (s.length < 20) return false;
  let minuteSeconds: number;
  if (lastMinute !== "" && s.startsWith(lastMinute)) minuteSeconds = lastMinuteSeconds;
  else {
    if (s.charCodeAt(4) !== 45 /* - */ || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 /* T */ || s.charCodeAt(13) !== 58 /* : */ || s.charCodeAt(16) !== 58) return false;
    const year = digitsValue(s, 0, 4);
    const month = digitsValue(s, 5, 7);
    const hour = digitsValue(s, 11, 13);
    const min = digitsValue(s, 14, 16);
    if (year < 0 || month < 1 || month > 12 || hour < 0 || hour > 23 || min < 0 || min > 59) return false;
    const day = digitsValue(s, 8, 10);
    if (day < 1 || day > daysIn(month, year)) return false;
    minuteSeconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60;
    lastMinute = s.slice(0, 17);
    lastMinuteSeconds = minuteSeconds;
  }
  const sec = digitsValue(s, 17, 19);
  if (sec < 0 || sec > 59) return false;
  let i = 19;
  let nsec = 0;
  if (s.charCodeAt(i) === 46 /* . */ && isDigitAt(s, i + 1)) {
    let end = i + 2;
    while (end < s.length && isDigitAt(s, end)) end++;
    // Go's parseNanoseconds: the first nine digits count.
    const digits = Math.min(end - i - 1, 9);
    nsec = digitsValue(s, i + 1, i + 1 + digits) * POWERS_OF_TEN[9 - digits];
    i = end;
  }
  let offset = 0;
  if (!(s.length === i + 1 && s.charCodeAt(i) === 90 /* Z */)) {
    if (s.length !== i + 6) return false;
    const sign = s.charCodeAt(i);
    const hh = digitsValue(s, i + 1, i + 3);
    const mm = digitsValue(s, i + 4, i + 6);
    if ((sign !== 43 /* + */ && sign !== 45 /* - */) || s.charCodeAt(i + 3) !== 58 || hh < 0 || hh > 23 || mm < 0 || mm > 59) return false;
    offset = (hh * 60 + mm) * 60 * (sign === 45 ? -1 : 1);
  }
  at.sec = minuteSeconds + sec - offset;
  at.nsec = nsec;
  return true;
}

/**
 * Promtail's year for a year-less timestamp: the current year, except a December timestamp
 * read in January belongs to last year and a January timestamp read in December to next year.
 */
export function yearFor(month: number, nowMs: number): number {
  const now = new Date(nowMs);
  const year = now.getUTCFullYear();
  const nowMonth = now.getUTCMonth() + 1;
  if (month === 12 && nowMonth === 1) return year - 1;
  if (month === 1 && nowMonth === 12) return year + 1;
  return year;
}
