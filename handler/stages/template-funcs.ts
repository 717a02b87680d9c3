/**
 * The functions a Promtail `template` stage can call: Go's template builtins, Promtail's own
 * (ToLower … Sha2Hash, regexReplaceAll, regexReplaceAllLiteral), and the part of sprig's
 * TxtFuncMap (which Promtail registers whole) that makes sense on text: strings, defaults,
 * integer arithmetic, encodings and hashes, lists of strings, regular expressions.
 *
 * Left out on purpose: sprig's `env` / `expandenv` (they would hand the function's AWS
 * credentials to whoever writes the template), clock and random functions (`now`, `date*`,
 * `rand*`, `uuidv4`: a retried record must produce identical entries), and the rest of sprig
 * (dicts, semver, crypto keys, reflection, network). Calling one is a parse error naming it.
 *
 * Regular expressions run on the linear-time engine (handler/regex.ts); a literal
 * pattern that does not compile is refused when the template is parsed.
 */
import { createHash } from "node:crypto";
import { expandTemplate, parseTemplate, Regex } from "../regex";
import { GoFloat, isTrue, MISSING, printValue, TemplateExecError, typeName, type FuncMap, type ParamType, type TemplateFunc, type Value } from "./gotemplate";

const f = (params: ParamType[], call: (...args: never[]) => Value, extra: Partial<TemplateFunc> = {}): TemplateFunc => ({ params, call: call as (...args: Value[]) => Value, ...extra });
const variadic = (params: ParamType[], rest: ParamType, call: (...args: never[]) => Value): TemplateFunc => ({ params, variadic: rest, call: call as (...args: Value[]) => Value });

// --- Go strings package semantics -------------------------------------------------------------

/** Go's unicode.IsSpace. */
const GO_SPACE = "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

function trimSet(s: string, cutset: string, left: boolean, right: boolean): string {
  const set = new Set(Array.from(cutset));
  const chars = Array.from(s);
  let a = 0;
  let b = chars.length;
  if (left) while (a < b && set.has(chars[a])) a++;
  if (right) while (b > a && set.has(chars[b - 1])) b--;
  return a === 0 && b === chars.length ? s : chars.slice(a, b).join("");
}

/** Go's unicode.ToUpper/ToLower per code point: simple mappings only ("ß" stays "ß"). */
function mapCase(s: string, upper: boolean): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = "";
  for (const c of s) {
    const m = upper ? c.toUpperCase() : c.toLowerCase();
    out += Array.from(m).length === 1 ? m : c;
  }
  return out;
}

/** Go's strings.Replace(s, old, new, n); n < 0 replaces all. */
function goReplace(s: string, old: string, replacement: string, n: number): string {
  if (n === 0 || old === replacement) return s;
  if (old === "") {
    // Go inserts at the start and after every UTF-8 sequence.
    const chars = Array.from(s);
    let out = "";
    let done = 0;
    for (let i = 0; i <= chars.length; i++) {
      if (n < 0 || done < n) {
        out += replacement;
        done++;
      }
      if (i < chars.length) out += chars[i];
    }
    return out;
  }
  if (n < 0) return s.split(old).join(replacement);
  let out = "";
  let from = 0;
  for (let k = 0; k < n; k++) {
    const at = s.indexOf(old, from);
    if (at < 0) break;
    out += s.slice(from, at) + replacement;
    from = at + old.length;
  }
  return out + s.slice(from);
}

function hex(algorithm: string, text: string): string {
  return createHash(algorithm).update(text, "utf8").digest("hex");
}

// --- regular expressions ----------------------------------------------------------------------

/** Compiled patterns, shared by every call: templates repeat the same few. */
const regexCache = new Map<string, Regex>();

function regex(pattern: string): Regex {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    re = Regex.compile(pattern); // throws: an execution error for this entry, as Go's MustCompile panic
    if (regexCache.size >= 256) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** The problem with a literal regular-expression argument, for parse-time checks. */
export function regexProblem(pattern: string): string | undefined {
  try {
    regex(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Each match Go's FindAll reports (non-overlapping, no empty match right after a match), at
 * most `limit` of them (negative: all): the engine's ReplaceAll walk, which applies those rules.
 */
function forEachMatch(pattern: string, s: string, each: (start: number, end: number) => void, limit = -1): void {
  let found = 0;
  regex(pattern).replaceAll(s, (m) => {
    if (limit < 0 || found < limit) each(m.start, m.end);
    found++;
    return "";
  });
}

function findAll(pattern: string, s: string, n: number): string[] {
  const out: string[] = [];
  forEachMatch(pattern, s, (a, b) => out.push(s.slice(a, b)), n);
  return out;
}

/** Go's Regexp.ReplaceAllString (`literal`: ReplaceAllLiteralString). */
function replaceAll(pattern: string, s: string, replacement: string, literal: boolean): string {
  const re = regex(pattern);
  if (literal) return re.replaceAll(s, () => replacement);
  const parts = parseTemplate(replacement);
  return re.replaceAll(s, (m) => expandTemplate(parts, m));
}

// --- sprig's loose conversions (spf13/cast) -------------------------------------------------

function toInt(v: Value): number {
  if (typeof v === "number") return v;
  if (v instanceof GoFloat) return Math.trunc(v.value);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const n = /^[+-]?[0-9]+$/.test(v.trim()) ? Number(v.trim()) : /^[+-]?[0-9]*\.[0-9]+$/.test(v.trim()) ? Math.trunc(Number(v.trim())) : 0;
    return n;
  }
  return 0;
}

function toFloat(v: Value): number {
  if (typeof v === "number") return v;
  if (v instanceof GoFloat) return v.value;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    const n = Number(v.trim());
    return v.trim() !== "" && Number.isFinite(n) ? n : 0;
  }
  return 0;
}

/** sprig's strval: text of any value; nil is "". */
function strval(v: Value): string {
  if (v === null || v === MISSING) return v === null ? "<nil>" : "";
  return printValue(v);
}

function isEmpty(v: Value): boolean {
  return !isTrue(v);
}

function list(v: Value): Value[] {
  if (Array.isArray(v)) return v;
  throw new TemplateExecError(`cannot iterate over ${typeName(v)}`);
}

function compare(name: string, a: Value, b: Value): number {
  const kind = (v: Value): string => (typeof v === "number" ? "int" : v instanceof GoFloat ? "float" : typeof v === "string" ? "string" : v === MISSING ? "invalid" : typeName(v));
  const ka = kind(a);
  const kb = kind(b);
  if (ka === "invalid" || kb === "invalid" || !["int", "float", "string"].includes(ka) || !["int", "float", "string"].includes(kb)) {
    throw new TemplateExecError(`error calling ${name}: invalid type for comparison`);
  }
  if (ka !== kb) throw new TemplateExecError(`error calling ${name}: incompatible types for comparison`);
  const x = a instanceof GoFloat ? a.value : (a as number | string);
  const y = b instanceof GoFloat ? b.value : (b as number | string);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Go's eq: arg1 equals any of the others; mixed basic kinds are an error, missing values compare unequal. */
function eq(a: Value, ...others: Value[]): boolean {
  if (others.length === 0) throw new TemplateExecError("error calling eq: missing argument for comparison");
  const basic = (v: Value): string | undefined => (typeof v === "number" ? "int" : v instanceof GoFloat ? "float" : typeof v === "string" ? "string" : typeof v === "boolean" ? "bool" : v === null ? "nil" : v === MISSING ? "invalid" : undefined);
  for (const b of others) {
    const ka = basic(a);
    const kb = basic(b);
    if (ka === undefined || kb === undefined) throw new TemplateExecError("error calling eq: non-comparable types");
    if (ka !== kb) {
      if (ka !== "invalid" && kb !== "invalid" && ka !== "nil" && kb !== "nil") throw new TemplateExecError("error calling eq: incompatible types for comparison");
      continue;
    }
    const x = a instanceof GoFloat ? a.value : a;
    const y = b instanceof GoFloat ? b.value : b;
    if (x === y) return true;
  }
  return false;
}

// --- printf (Go's fmt, the verbs templates use) -------------------------------------------

function sprintf(format: string, args: Value[]): string {
  let out = "";
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    const m = /^%([-+# 0]*)([0-9]+)?(?:\.([0-9]*))?([a-zA-Z%])?/.exec(format.slice(pct))!;
    i = pct + m[0].length;
    const [, flags, widthText, precText, verb] = m;
    if (verb === undefined) {
      out += "%!(NOVERB)";
      continue;
    }
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argi++];
    const prec = precText === undefined ? undefined : Number(precText || "0");
    let text = formatVerb(verb, arg, prec, flags);
    const width = widthText === undefined ? 0 : Number(widthText);
    if (text.length < width) {
      if (flags.includes("-")) text = text.padEnd(width);
      else if (flags.includes("0") && /[dfFeEgGxX]/.test(verb) && typeof arg !== "string") {
        const sign = /^[+-]/.test(text) ? text[0] : "";
        text = sign + text.slice(sign.length).padStart(width - sign.length, "0");
      } else text = text.padStart(width);
    }
    out += text;
  }
  if (argi < args.length) out += "%!(EXTRA " + args.slice(argi).map((a) => `${typeName(a)}=${printValue(a)}`).join(", ") + ")";
  return out;
}

function formatVerb(verb: string, arg: Value, prec: number | undefined, flags: string): string {
  const wrong = (): string => `%!${verb}(${typeName(arg)}=${printValue(arg)})`;
  const plus = (s: string, n: number): string => (flags.includes("+") && n >= 0 ? "+" + s : flags.includes(" ") && n >= 0 ? " " + s : s);
  switch (verb) {
    case "v":
      return arg === null ? "<nil>" : printValue(arg);
    case "s":
      if (typeof arg === "string") return prec === undefined ? arg : Array.from(arg).slice(0, prec).join("");
      if (Array.isArray(arg)) return printValue(arg);
      return wrong();
    case "q":
      return typeof arg === "string" ? JSON.stringify(arg) : typeof arg === "number" ? `'${String.fromCodePoint(arg)}'` : wrong();
    case "d":
      return typeof arg === "number" ? plus(String(arg), arg) : wrong();
    case "x":
    case "X": {
      let s: string;
      if (typeof arg === "number") s = arg < 0 ? "-" + (-arg).toString(16) : arg.toString(16);
      else if (typeof arg === "string") s = Buffer.from(arg, "utf8").toString("hex");
      else return wrong();
      return verb === "X" ? s.toUpperCase() : s;
    }
    case "f":
    case "F":
      if (arg instanceof GoFloat) return plus(arg.value.toFixed(prec ?? 6), arg.value);
      return wrong();
    case "e":
      if (arg instanceof GoFloat) return plus(arg.value.toExponential(prec ?? 6).replace(/e([+-])([0-9])$/, "e$10$2"), arg.value);
      return wrong();
    case "t":
      return typeof arg === "boolean" ? String(arg) : wrong();
    case "c":
      return typeof arg === "number" ? String.fromCodePoint(arg) : wrong();
    default:
      return `%!${verb}(${typeName(arg)}=${printValue(arg)})`;
  }
}

/** Go's fmt.Sprint: a space between operands when neither is a string. */
function sprint(args: Value[]): string {
  let out = "";
  for (let i = 0; i < args.length; i++) {
    if (i > 0 && typeof args[i] !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += args[i] === null ? "<nil>" : printValue(args[i]);
  }
  return out;
}

const MAX_REPEAT_BYTES = 1 << 20;

export const TEMPLATE_FUNCS: FuncMap = {
  // Go's builtins.
  and: variadic(["value"], "value", () => null), // evaluated lazily by the engine
  or: variadic(["value"], "value", () => null),
  not: f(["value"], (v: Value) => !isTrue(v)),
  eq: variadic(["value"], "value", (a: Value, ...b: Value[]) => eq(a, ...b)),
  ne: f(["value", "value"], (a: Value, b: Value) => !eq(a, b)),
  lt: f(["value", "value"], (a: Value, b: Value) => compare("lt", a, b) < 0),
  le: f(["value", "value"], (a: Value, b: Value) => compare("le", a, b) <= 0),
  gt: f(["value", "value"], (a: Value, b: Value) => compare("gt", a, b) > 0),
  ge: f(["value", "value"], (a: Value, b: Value) => compare("ge", a, b) >= 0),
  len: f(["value"], (v: Value) => {
    if (typeof v === "string") return Buffer.byteLength(v, "utf8");
    if (Array.isArray(v)) return v.length;
    if (v instanceof Map) return v.size;
    throw new TemplateExecError(`error calling len: len of ${v === MISSING ? "nil pointer" : `type ${typeName(v)}`}`);
  }),
  index: variadic(["value"], "value", (v: Value, ...keys: Value[]) => {
    for (const k of keys) {
      if (v instanceof Map) v = typeof k === "string" ? (v.has(k) ? (v.get(k) as Value) : null) : (() => { throw new TemplateExecError("error calling index: map key is not a string"); })();
      else if (Array.isArray(v) || typeof v === "string") {
        const n = typeof k === "number" ? k : NaN;
        const len = typeof v === "string" ? Buffer.byteLength(v) : v.length;
        if (!(n >= 0 && n < len)) throw new TemplateExecError(`error calling index: index out of range: ${printValue(k)}`);
        v = typeof v === "string" ? Buffer.from(v, "utf8")[n] : v[n];
      } else throw new TemplateExecError(`error calling index: can't index item of type ${typeName(v)}`);
    }
    return v;
  }),
  print: variadic([], "any", (...a: Value[]) => sprint(a)),
  println: variadic([], "any", (...a: Value[]) => a.map((x) => (x === null ? "<nil>" : printValue(x))).join(" ") + "\n"),
  printf: variadic(["string"], "any", (format: string, ...a: Value[]) => sprintf(format, a)),

  // Promtail's own.
  ToLower: f(["string"], (s: string) => mapCase(s, false)),
  ToUpper: f(["string"], (s: string) => mapCase(s, true)),
  Replace: f(["string", "string", "string", "int"], goReplace),
  Trim: f(["string", "string"], (s: string, cut: string) => trimSet(s, cut, true, true)),
  TrimLeft: f(["string", "string"], (s: string, cut: string) => trimSet(s, cut, true, false)),
  TrimRight: f(["string", "string"], (s: string, cut: string) => trimSet(s, cut, false, true)),
  TrimPrefix: f(["string", "string"], (s: string, p: string) => (p !== "" && s.startsWith(p) ? s.slice(p.length) : s)),
  TrimSuffix: f(["string", "string"], (s: string, p: string) => (p !== "" && s.endsWith(p) ? s.slice(0, s.length - p.length) : s)),
  TrimSpace: f(["string"], (s: string) => trimSet(s, GO_SPACE, true, true)),
  // Promtail hashes its first argument followed by its second (documented as value + salt).
  Hash: f(["string", "string"], (a: string, b: string) => hex("sha3-256", a + b)),
  Sha2Hash: f(["string", "string"], (a: string, b: string) => hex("sha256", a + b)),
  regexReplaceAll: f(["string", "string", "string"], (re: string, s: string, repl: string) => replaceAll(re, s, repl, false), { regexArgs: [0] }),
  regexReplaceAllLiteral: f(["string", "string", "string"], (re: string, s: string, repl: string) => replaceAll(re, s, repl, true), { regexArgs: [0] }),

  // sprig: strings.
  lower: f(["string"], (s: string) => mapCase(s, false)),
  upper: f(["string"], (s: string) => mapCase(s, true)),
  title: f(["string"], (s: string) => s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + mapCase(b, true))),
  trim: f(["string"], (s: string) => trimSet(s, GO_SPACE, true, true)),
  trimAll: f(["string", "string"], (cut: string, s: string) => trimSet(s, cut, true, true)),
  trimPrefix: f(["string", "string"], (p: string, s: string) => (s.startsWith(p) ? s.slice(p.length) : s)),
  trimSuffix: f(["string", "string"], (p: string, s: string) => (p !== "" && s.endsWith(p) ? s.slice(0, s.length - p.length) : s)),
  replace: f(["string", "string", "string"], (old: string, repl: string, s: string) => goReplace(s, old, repl, -1)),
  contains: f(["string", "string"], (sub: string, s: string) => s.includes(sub)),
  hasPrefix: f(["string", "string"], (p: string, s: string) => s.startsWith(p)),
  hasSuffix: f(["string", "string"], (p: string, s: string) => s.endsWith(p)),
  nospace: f(["string"], (s: string) => Array.from(s).filter((c) => !GO_SPACE.includes(c)).join("")),
  repeat: f(["int", "string"], (n: number, s: string) => {
    if (n < 0) throw new TemplateExecError("error calling repeat: negative Repeat count");
    if (n * Buffer.byteLength(s) > MAX_REPEAT_BYTES) throw new TemplateExecError(`error calling repeat: result longer than ${MAX_REPEAT_BYTES} bytes`);
    return s.repeat(n);
  }),
  trunc: f(["int", "string"], (n: number, s: string) => (n >= 0 ? (s.length > n ? s.slice(0, n) : s) : s.length + n > 0 ? s.slice(s.length + n) : s)),
  substr: f(["int", "int", "string"], (start: number, end: number, s: string) => {
    if (start < 0) return s.slice(0, end);
    if (end < 0 || end > s.length) return s.slice(start);
    return s.slice(start, end);
  }),
  abbrev: f(["int", "string"], (width: number, s: string) => (width < 4 || s.length <= width ? s : s.slice(0, width - 3) + "...")),
  quote: variadic([], "any", (...a: Value[]) => a.filter((x) => x !== null).map((x) => JSON.stringify(strval(x))).join(" ")),
  squote: variadic([], "any", (...a: Value[]) => a.filter((x) => x !== null).map((x) => `'${strval(x)}'`).join(" ")),
  cat: variadic([], "any", (...a: Value[]) => a.filter((x) => x !== null).map(strval).join(" ")),
  indent: f(["int", "string"], (n: number, s: string) => " ".repeat(n) + s.replace(/\n/g, "\n" + " ".repeat(n))),
  nindent: f(["int", "string"], (n: number, s: string) => "\n" + " ".repeat(n) + s.replace(/\n/g, "\n" + " ".repeat(n))),
  toString: f(["any"], (v: Value) => strval(v)),
  b64enc: f(["string"], (s: string) => Buffer.from(s, "utf8").toString("base64")),
  b64dec: f(["string"], (s: string) => {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return `illegal base64 data at input byte ${s.length}`;
    return Buffer.from(s, "base64").toString("utf8");
  }),
  sha1sum: f(["string"], (s: string) => hex("sha1", s)),
  sha256sum: f(["string"], (s: string) => hex("sha256", s)),
  // sprig: defaults and flow.
  default: variadic(["any"], "any", (d: Value, ...given: Value[]) => (given.length === 0 || isEmpty(given[0]) ? d : given[0])),
  empty: f(["any"], (v: Value) => isEmpty(v)),
  coalesce: variadic([], "any", (...a: Value[]) => a.find((x) => !isEmpty(x)) ?? null),
  ternary: f(["any", "any", "bool"], (t: Value, fv: Value, c: boolean) => (c ? t : fv)),
  // sprig: numbers (int64 arithmetic on loosely converted values).
  atoi: f(["string"], (s: string) => (/^[+-]?[0-9]+$/.test(s) ? Number(s) : 0)),
  int: f(["any"], (v: Value) => toInt(v)),
  int64: f(["any"], (v: Value) => toInt(v)),
  float64: f(["any"], (v: Value) => new GoFloat(toFloat(v))),
  add: variadic([], "any", (...a: Value[]) => a.reduce<number>((s, x) => s + toInt(x), 0)),
  add1: f(["any"], (v: Value) => toInt(v) + 1),
  sub: f(["any", "any"], (a: Value, b: Value) => toInt(a) - toInt(b)),
  mul: variadic(["any"], "any", (a: Value, ...b: Value[]) => b.reduce<number>((s, x) => s * toInt(x), toInt(a))),
  div: f(["any", "any"], (a: Value, b: Value) => {
    if (toInt(b) === 0) throw new TemplateExecError("error calling div: integer divide by zero");
    return Math.trunc(toInt(a) / toInt(b));
  }),
  mod: f(["any", "any"], (a: Value, b: Value) => {
    if (toInt(b) === 0) throw new TemplateExecError("error calling mod: integer divide by zero");
    return toInt(a) % toInt(b);
  }),
  max: variadic(["any"], "any", (a: Value, ...b: Value[]) => Math.max(toInt(a), ...b.map(toInt))),
  min: variadic(["any"], "any", (a: Value, ...b: Value[]) => Math.min(toInt(a), ...b.map(toInt))),
  // sprig: lists of strings.
  splitList: f(["string", "string"], (sep: string, s: string) => (sep === "" ? Array.from(s) : s.split(sep))),
  join: f(["string", "any"], (sep: string, v: Value) => (Array.isArray(v) ? v.map(strval).join(sep) : strval(v))),
  list: variadic([], "any", (...a: Value[]) => a),
  first: f(["any"], (v: Value) => (list(v).length > 0 ? list(v)[0] : null)),
  last: f(["any"], (v: Value) => (list(v).length > 0 ? list(v)[list(v).length - 1] : null)),
  // sprig: regular expressions.
  regexMatch: f(["string", "string"], (re: string, s: string) => regex(re).test(s), { regexArgs: [0] }),
  regexFind: f(["string", "string"], (re: string, s: string) => findAll(re, s, 1)[0] ?? "", { regexArgs: [0] }),
  regexFindAll: f(["string", "string", "int"], (re: string, s: string, n: number) => findAll(re, s, n), { regexArgs: [0] }),
  regexSplit: f(["string", "string", "int"], (re: string, s: string, n: number) => {
    if (n === 0) return [];
    const out: string[] = [];
    let last = 0;
    forEachMatch(re, s, (a, b) => {
      if (n > 0 && out.length === n - 1) return;
      if (b === 0) return;
      out.push(s.slice(last, a));
      last = b;
    });
    out.push(s.slice(last));
    return out;
  }, { regexArgs: [0] }),
  regexQuoteMeta: f(["string"], (s: string) => s.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&")),
};
