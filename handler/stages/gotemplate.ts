/**
 * A Go `text/template` engine for the subset Promtail's `template` stage is used with:
 * text and actions `{{ … }}` with trim markers `{{-` / `-}}`, comments `{{/* … *\/}}`, fields
 * of the data map (`.Value`, `.Entry`, `.name`, chains `.a.b`), `.` and `$`, variables
 * (`$x := …`, `$x = …`), pipelines `a | f b`, parenthesised pipelines, string literals (Go
 * escapes), raw strings, character constants, numbers, `true` / `false` / `nil`, and the control
 * actions `if` / `else if` / `else` / `with` / `range` (over lists, maps and integers, with
 * `$i, $v :=`, `break`, `continue`) / `end`. Not supported (refused with the position):
 * `define`, `template`, `block`. Output is capped at 1 MiB per run.
 *
 * Templates are parsed once; an unknown function is a parse error, as in Go. Execution follows
 * Go's rules where users see them: a missing map key prints `<no value>`, is false in `if`, is
 * nil for `interface{}` parameters (sprig's `default`) and an error for a `string` parameter
 * (`ToUpper`); argument types are checked; `and` / `or` short-circuit; comparisons refuse mixed
 * kinds. Functions come from a `FuncMap` (handler/stages/template-funcs.ts).
 */

import { GoStringError, readGoLiteral } from "./gostring";

// ---------------------------------------------------------------------------------------------
// Values

/** A float64 (Go keeps integer and float constants apart; they print differently). */
export class GoFloat {
  constructor(readonly value: number) {}
}

/** A map key that is not there (Go's invalid reflect.Value): prints "<no value>". */
export const MISSING: unique symbol = Symbol("missing");

/** A template value: string, int (number), float64, bool, nil, missing, list, map. */
export type Value = string | number | GoFloat | boolean | null | typeof MISSING | Value[] | ReadonlyMap<string, Value>;

/** How a function parameter takes its argument (Go's parameter type). */
export type ParamType = "string" | "int" | "float" | "bool" | "any" | "value";

export interface TemplateFunc {
  params: readonly ParamType[];
  /** Type of each extra argument of a variadic function. */
  variadic?: ParamType;
  call(...args: Value[]): Value;
  /** Names the argument positions holding regular expressions, checked at parse time when literal. */
  regexArgs?: readonly number[];
}

export type FuncMap = Readonly<Record<string, TemplateFunc>>;

/** A template that cannot be parsed; `offset` is where in the template text. */
export class TemplateSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = "TemplateSyntaxError";
  }
}

/** A template that failed while running on one entry (Go's ExecError). */
export class TemplateExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateExecError";
  }
}

/** Go's fmt %v for one value. */
export function printValue(v: Value): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v === null) return "<nil>";
  if (v === MISSING) return "<no value>";
  if (v instanceof GoFloat) return formatFloatG(v.value);
  if (Array.isArray(v)) return "[" + v.map(printValue).join(" ") + "]";
  return "map[" + [...(v as ReadonlyMap<string, Value>).entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => `${k}:${printValue(x)}`).join(" ") + "]";
}

/** Go's strconv.FormatFloat(f, 'g', -1, 64), which %v uses for float64. */
export function formatFloatG(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (!Number.isFinite(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const [mantissa, expText] = f.toExponential().split("e");
  const exp = Number(expText);
  if (exp < -4 || exp >= 21) {
    const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
    return `${mantissa}e${exp < 0 ? "-" : "+"}${e}`;
  }
  return String(f);
}

/** Go's template truth. */
export function isTrue(v: Value): boolean {
  if (v === MISSING || v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return v.length > 0;
  if (typeof v === "number") return v !== 0;
  if (v instanceof GoFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  return (v as ReadonlyMap<string, Value>).size > 0;
}

export function typeName(v: Value): string {
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "int";
  if (typeof v === "boolean") return "bool";
  if (v === null) return "nil";
  if (v === MISSING) return "invalid value";
  if (v instanceof GoFloat) return "float64";
  if (Array.isArray(v)) return "[]interface {}";
  return "map[string]interface {}";
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

type Operand =
  | { kind: "dot"; at: number }
  | { kind: "field"; base: Operand | undefined; chain: string[]; at: number } // base undefined: dot
  | { kind: "var"; name: string; chain: string[]; at: number }
  | { kind: "func"; name: string; at: number }
  | { kind: "string"; value: string; at: number }
  | { kind: "number"; text: string; int: number | undefined; float: number; floatSyntax: boolean; at: number }
  | { kind: "bool"; value: boolean; at: number }
  | { kind: "nil"; at: number }
  | { kind: "pipe"; pipe: Pipeline; chain: string[]; at: number };

interface Command {
  operands: Operand[];
  at: number;
}

interface Pipeline {
  /** `$x :=` / `$x =`; range also takes `$i, $v :=`. */
  decl?: { names: string[]; assign: boolean };
  commands: Command[];
  at: number;
}

type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: Pipeline }
  | { kind: "if" | "with" | "range"; pipe: Pipeline; then: Node[]; else: Node[] }
  | { kind: "break" | "continue" };

type Control = Node & { kind: "if" | "with" | "range" };

// ---------------------------------------------------------------------------------------------
// Lexing of one action

type Token =
  | { t: "field"; names: string[]; at: number }
  | { t: "dot"; at: number }
  | { t: "var"; name: string; chain: string[]; at: number }
  | { t: "ident"; name: string; at: number }
  | { t: "string"; value: string; at: number }
  | { t: "number"; text: string; at: number }
  | { t: "char"; value: number; at: number }
  | { t: "punct"; p: "|" | "(" | ")" | ":=" | "=" | ","; at: number; chain?: string[] };

const SPACE = /[ \t\r\n]/;

class Lexer {
  private i: number;
  constructor(
    private readonly src: string,
    start: number,
    private readonly end: number,
    private readonly error: (reason: string, at: number) => never,
  ) {
    this.i = start;
  }

  tokens(): Token[] {
    const out: Token[] = [];
    const s = this.src;
    while (this.i < this.end) {
      const c = s[this.i];
      const at = this.i;
      if (SPACE.test(c)) {
        this.i++;
        continue;
      }
      if (c === "|" || c === "(" || c === ")" || c === ",") {
        this.i++;
        // A field chain may follow a closing parenthesis: (pipeline).Field
        if (c === ")" && s[this.i] === ".") out.push({ t: "punct", p: c, at, chain: this.fieldChain() });
        else out.push({ t: "punct", p: c, at });
        continue;
      }
      if (c === ":" && s[this.i + 1] === "=") {
        this.i += 2;
        out.push({ t: "punct", p: ":=", at });
        continue;
      }
      if (c === "=") {
        this.i++;
        out.push({ t: "punct", p: "=", at });
        continue;
      }
      if (c === '"' || c === "`" || c === "'") {
        const { value, next } = this.literal();
        out.push(c === "'" ? { t: "char", value: value.codePointAt(0)!, at } : { t: "string", value, at });
        this.i = next;
        continue;
      }
      if (c === ".") {
        if (/[0-9]/.test(s[this.i + 1] ?? "")) {
          out.push({ t: "number", text: this.number(), at });
          continue;
        }
        if (/[A-Za-z_]/.test(s[this.i + 1] ?? "")) {
          out.push({ t: "field", names: this.fieldChain(), at });
          continue;
        }
        this.i++;
        out.push({ t: "dot", at });
        continue;
      }
      if (c === "$") {
        const m = /^\$[A-Za-z0-9_]*/.exec(s.slice(this.i, this.end));
        this.i += m![0].length;
        out.push({ t: "var", name: m![0], chain: s[this.i] === "." ? this.fieldChain() : [], at });
        continue;
      }
      if (/[0-9+-]/.test(c)) {
        out.push({ t: "number", text: this.number(), at });
        continue;
      }
      if (/[A-Za-z_]/.test(c)) {
        const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.i, this.end))!;
        this.i += m[0].length;
        if (s[this.i] === "." && /[A-Za-z_]/.test(s[this.i + 1] ?? "")) this.error(`unexpected . after term ${JSON.stringify(m[0])}`, this.i);
        out.push({ t: "ident", name: m[0], at });
        continue;
      }
      this.error(`unexpected ${JSON.stringify(c)} in command`, at);
    }
    return out;
  }

  /** `.a.b.c` starting at a dot. */
  private fieldChain(): string[] {
    const names: string[] = [];
    const s = this.src;
    while (s[this.i] === "." && /[A-Za-z_]/.test(s[this.i + 1] ?? "")) {
      const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.i, this.end))!;
      names.push(m[0].slice(1));
      this.i += m[0].length;
    }
    if (s[this.i] === ".") this.error("bad character in field name", this.i);
    return names;
  }

  private number(): string {
    const m = /^[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?|0[bB][01_]+|0[oO][0-7_]+|[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?)/.exec(this.src.slice(this.i, this.end))!;
    const text = m[0];
    const after = this.src[this.i + text.length];
    if (!/[0-9]/.test(text) || (after !== undefined && this.i + text.length < this.end && /[A-Za-z0-9_.]/.test(after))) {
      this.error(`bad number syntax: ${JSON.stringify(this.src.slice(this.i, this.i + text.length + 1))}`, this.i);
    }
    this.i += text.length;
    return text;
  }

  private literal(): { value: string; next: number } {
    try {
      return readGoLiteral(this.src, this.i, this.end);
    } catch (err) {
      if (err instanceof GoStringError) this.error(err.reason, err.at);
      throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

const UNSUPPORTED = new Set(["define", "template", "block"]);
const KEYWORDS = new Set(["if", "else", "end", "with", "range", "break", "continue", "nil", "true", "false", ...UNSUPPORTED]);

/** Most text one run may produce: a range over a large integer cannot exhaust memory. */
export const MAX_TEMPLATE_OUTPUT = 1 << 20;
/** Most iterations of a range over an integer (a range with no output would otherwise spin). */
export const MAX_RANGE = 100_000;

/** Where `{{-` / `-}}` trim: Go's ASCII spaces. */
function trimRight(text: string): string {
  return text.replace(/[ \t\r\n]+$/, "");
}
function trimLeft(text: string): string {
  return text.replace(/^[ \t\r\n]+/, "");
}

interface Frame {
  kind: "root" | "if" | "with" | "range";
  nodes: Node[];
  node?: Control;
  inElse: boolean;
  at: number;
}

export class Template {
  private constructor(
    private readonly root: Node[],
    private readonly funcs: FuncMap,
    readonly source: string,
  ) {}

  /** Parses a template; throws TemplateSyntaxError. `regexCheck` validates literal regex arguments. */
  static parse(src: string, funcs: FuncMap, regexCheck?: (pattern: string) => string | undefined): Template {
    const error = (reason: string, at: number): never => {
      const before = src.slice(0, at);
      const line = before.split("\n").length;
      const column = at - before.lastIndexOf("\n");
      throw new TemplateSyntaxError(reason, at, line, column);
    };
    const stack: Frame[] = [{ kind: "root", nodes: [], inElse: false, at: 0 }];
    const top = (): Frame => stack[stack.length - 1];
    const emit = (n: Node): void => {
      const f = top();
      if (f.node) (f.inElse ? f.node.else : f.node.then).push(n);
      else f.nodes.push(n);
    };
    let i = 0;
    let trimNext = false;
    while (i <= src.length) {
      const open = src.indexOf("{{", i);
      let text = src.slice(i, open < 0 ? src.length : open);
      if (trimNext) text = trimLeft(text);
      trimNext = false;
      if (open < 0) {
        if (text) emit({ kind: "text", text });
        break;
      }
      let start = open + 2;
      if (src[start] === "-" && SPACE.test(src[start + 1] ?? "")) {
        text = trimRight(text);
        start += 2;
      }
      if (text) emit({ kind: "text", text });
      // A comment: {{/* … */}} with optional trim markers.
      if (src.startsWith("/*", start)) {
        const close = src.indexOf("*/", start + 2);
        if (close < 0) error("unclosed comment", open);
        let j = close + 2;
        if (src.startsWith(" -}}", j)) {
          trimNext = true;
          j += 4;
        } else if (src.startsWith("}}", j)) j += 2;
        else error("comment ends before closing delimiter", close);
        i = j;
        continue;
      }
      const close = Template.findClose(src, start, open, error);
      let end = close;
      if (src[close - 1] === "-" && SPACE.test(src[close - 2] ?? "")) {
        trimNext = true;
        end = close - 2;
      }
      const tokens = new Lexer(src, start, end, error).tokens();
      i = close + 2;
      Template.action(tokens, open, stack, emit, funcs, error, regexCheck);
    }
    if (stack.length > 1) error(`unexpected EOF: {{${top().kind}}} at column ${top().at + 1} has no {{end}}`, src.length);
    return new Template(stack[0].nodes, funcs, src);
  }

  /** The `}}` closing an action, skipping quoted strings. */
  private static findClose(src: string, start: number, open: number, error: (r: string, at: number) => never): number {
    let j = start;
    while (j < src.length) {
      const c = src[j];
      if (src.startsWith("}}", j)) return j;
      if (c === '"' || c === "'") {
        const quoteAt = j;
        j++;
        while (j < src.length && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
        if (src[j] !== c) error(c === '"' ? "unterminated quoted string" : "unterminated character constant", quoteAt);
      } else if (c === "`") {
        const k = src.indexOf("`", j + 1);
        if (k < 0) error("unterminated raw quoted string", j);
        j = k;
      }
      j++;
    }
    return error("unclosed action", open);
  }

  private static action(tokens: Token[], at: number, stack: Frame[], emit: (n: Node) => void, funcs: FuncMap, error: (r: string, at: number) => never, regexCheck?: (p: string) => string | undefined): void {
    if (tokens.length === 0) error("missing value for command", at);
    const first = tokens[0];
    const keyword = first.t === "ident" && KEYWORDS.has(first.name) && first.name !== "nil" && first.name !== "true" && first.name !== "false" ? first.name : undefined;
    const parsePipe = (from: number, declarations: number): Pipeline => new PipeParser(tokens, from, funcs, error, regexCheck).pipeline(declarations, true);
    if (keyword && UNSUPPORTED.has(keyword)) error(`{{${keyword}}} is not supported by this template engine (supported: if, else, else if, with, range, break, continue, end, variables, pipelines)`, first.at);
    switch (keyword) {
      case "if":
      case "with":
      case "range": {
        if (tokens.length === 1) error(`missing value for ${keyword}`, first.at);
        const node = { kind: keyword, pipe: parsePipe(1, keyword === "range" ? 2 : 1), then: [], else: [] } as Control;
        emit(node);
        stack.push({ kind: keyword, nodes: [], node, inElse: false, at });
        return;
      }
      case "break":
      case "continue": {
        if (tokens.length > 1) error(`unexpected token in {{${keyword}}}`, tokens[1].at);
        if (!stack.some((f) => f.kind === "range" && !f.inElse)) error(`{{${keyword}}} outside {{range}}`, first.at);
        emit({ kind: keyword });
        return;
      }
      case "else": {
        const f = stack[stack.length - 1];
        if (f.kind === "root") error("unexpected {{else}}", first.at);
        if (f.inElse) error("expected end; found {{else}}", first.at);
        f.inElse = true;
        if (tokens.length > 1) {
          const next = tokens[1];
          if (next.t !== "ident" || (next.name !== "if" && next.name !== "with")) error("unexpected token after else", next.at);
          if (next.name !== f.kind) error(`else ${next.name} inside {{${f.kind}}}`, next.at);
          if (tokens.length === 2) error(`missing value for ${next.name}`, next.at);
          // else if X … == else {{if X}} … {{end}}, closed by the same {{end}}.
          const node = { kind: f.kind, pipe: parsePipe(2, 1), then: [], else: [] } as Control;
          f.node!.else.push(node);
          stack.pop();
          stack.push({ kind: f.kind, nodes: [], node, inElse: false, at });
        }
        return;
      }
      case "end": {
        if (tokens.length > 1) error("unexpected token in end", tokens[1].at);
        const f = stack[stack.length - 1];
        if (f.kind === "root") error("unexpected {{end}}", first.at);
        stack.pop();
        return;
      }
      default:
        emit({ kind: "action", pipe: parsePipe(0, 1) });
    }
  }

  /** Runs the template on a data map; throws TemplateExecError. */
  execute(data: ReadonlyMap<string, Value>): string {
    const state = new State(data, this.funcs);
    state.walk(this.root);
    return state.out;
  }
}

class PipeParser {
  private i: number;
  constructor(
    private readonly tokens: Token[],
    from: number,
    private readonly funcs: FuncMap,
    private readonly error: (reason: string, at: number) => never,
    private readonly regexCheck?: (pattern: string) => string | undefined,
  ) {
    this.i = from;
  }

  /** `declarations`: how many variables the pipeline may declare (range: 2, parentheses: 0). */
  pipeline(declarations: number, toEnd: boolean): Pipeline {
    const t = this.tokens;
    const at = t[this.i]?.at ?? 0;
    let decl: Pipeline["decl"];
    const isVar = (k: number): boolean => t[k]?.t === "var" && (t[k] as { chain: string[] }).chain.length === 0;
    const isOp = (k: number): boolean => t[k]?.t === "punct" && ((t[k] as { p: string }).p === ":=" || (t[k] as { p: string }).p === "=");
    if (declarations >= 1 && isVar(this.i) && isOp(this.i + 1)) {
      decl = { names: [(t[this.i] as { name: string }).name], assign: (t[this.i + 1] as { p: string }).p === "=" };
      this.i += 2;
    } else if (declarations >= 2 && isVar(this.i) && t[this.i + 1]?.t === "punct" && (t[this.i + 1] as { p: string }).p === "," && isVar(this.i + 2) && isOp(this.i + 3)) {
      decl = { names: [(t[this.i] as { name: string }).name, (t[this.i + 2] as { name: string }).name], assign: (t[this.i + 3] as { p: string }).p === "=" };
      this.i += 4;
    }
    const commands: Command[] = [];
    for (;;) {
      commands.push(this.command());
      const next = t[this.i];
      if (next?.t === "punct" && next.p === "|") {
        this.i++;
        continue;
      }
      if (next === undefined || (!toEnd && next.t === "punct" && next.p === ")")) break;
      this.error(`unexpected ${describe(next)} in operand`, next.at);
    }
    if (commands.length === 0) this.error("missing command", at);
    return { decl, commands, at };
  }

  private command(): Command {
    const operands: Operand[] = [];
    const at = this.tokens[this.i]?.at ?? 0;
    for (;;) {
      const tok = this.tokens[this.i];
      if (tok === undefined || (tok.t === "punct" && (tok.p === "|" || tok.p === ")"))) break;
      operands.push(this.operand());
    }
    if (operands.length === 0) this.error("missing value for command", at);
    const head = operands[0];
    if (head.kind === "nil" && operands.length === 1) this.error("nil is not a command", head.at);
    if (head.kind === "func") this.checkRegexArgs(head.name, operands.slice(1));
    for (const o of operands.slice(1)) if (o.kind === "nil" && head.kind !== "func") this.error("nil is not a command", o.at);
    return { operands, at };
  }

  private checkRegexArgs(name: string, args: Operand[]): void {
    const positions = this.funcs[name]?.regexArgs;
    if (!positions || !this.regexCheck) return;
    for (const p of positions) {
      const arg = args[p];
      if (arg?.kind !== "string") continue;
      const problem = this.regexCheck(arg.value);
      if (problem) this.error(`${name}: ${problem}`, arg.at);
    }
  }

  private operand(): Operand {
    const tok = this.tokens[this.i++];
    switch (tok.t) {
      case "dot":
        return { kind: "dot", at: tok.at };
      case "field":
        return { kind: "field", base: undefined, chain: tok.names, at: tok.at };
      case "var":
        return { kind: "var", name: tok.name, chain: tok.chain, at: tok.at };
      case "string":
        return { kind: "string", value: tok.value, at: tok.at };
      case "char":
        return { kind: "number", text: String(tok.value), int: tok.value, float: tok.value, floatSyntax: false, at: tok.at };
      case "number":
        return numberOperand(tok.text, tok.at, this.error);
      case "ident":
        if (tok.name === "true" || tok.name === "false") return { kind: "bool", value: tok.name === "true", at: tok.at };
        if (tok.name === "nil") return { kind: "nil", at: tok.at };
        if (KEYWORDS.has(tok.name)) this.error(`unexpected <${tok.name}> in command`, tok.at);
        if (!Object.hasOwn(this.funcs, tok.name)) this.error(`function ${JSON.stringify(tok.name)} not defined`, tok.at);
        return { kind: "func", name: tok.name, at: tok.at };
      case "punct":
        if (tok.p === "(") {
          const pipe = this.pipeline(1, false);
          const close = this.tokens[this.i++];
          if (close?.t !== "punct" || close.p !== ")") this.error("unclosed left paren", tok.at);
          return { kind: "pipe", pipe, chain: close.chain ?? [], at: tok.at };
        }
        return this.error(`unexpected ${describe(tok)} in operand`, tok.at);
    }
  }
}

function describe(tok: Token): string {
  switch (tok.t) {
    case "punct":
      return `"${tok.p}"`;
    case "ident":
      return `<${tok.name}>`;
    default:
      return tok.t;
  }
}

function numberOperand(text: string, at: number, error: (r: string, at: number) => never): Operand {
  const clean = text.replace(/_/g, "");
  const neg = clean.startsWith("-");
  const body = clean.replace(/^[+-]/, "");
  let value: number;
  if (/^0[xX]/.test(body) && !/[.pP]/.test(body)) value = parseInt(body.slice(2), 16);
  else if (/^0[bB]/.test(body)) value = parseInt(body.slice(2), 2);
  else if (/^0[oO]/.test(body)) value = parseInt(body.slice(2), 8);
  else if (/^0[0-7]+$/.test(body)) value = parseInt(body.slice(1), 8);
  else value = Number(body);
  if (!Number.isFinite(value)) error(`illegal number syntax: ${JSON.stringify(text)}`, at);
  if (neg) value = -value;
  const floatSyntax = !/^0[xX]/.test(body) && /[.eE]/.test(body);
  return { kind: "number", text, int: Number.isInteger(value) ? value : undefined, float: value, floatSyntax, at };
}

// ---------------------------------------------------------------------------------------------
// Execution

/** Thrown through walk() by {{break}} / {{continue}} to the enclosing range. */
const BREAK = Symbol("break");
const CONTINUE = Symbol("continue");

class State {
  out = "";
  private readonly vars: { name: string; value: Value }[];

  constructor(
    private readonly data: ReadonlyMap<string, Value>,
    private readonly funcs: FuncMap,
  ) {
    this.vars = [{ name: "$", value: data }];
  }

  walk(nodes: readonly Node[], dot: Value = this.data): void {
    for (const node of nodes) {
      switch (node.kind) {
        case "text":
          this.write(node.text);
          break;
        case "action": {
          const v = this.pipeline(node.pipe, dot);
          if (!node.pipe.decl) this.write(printValue(v));
          break;
        }
        case "break":
        case "continue":
          throw node.kind === "break" ? BREAK : CONTINUE;
        case "range":
          this.range(node, dot);
          break;
        default: {
          const mark = this.vars.length;
          const v = this.pipeline(node.pipe, dot);
          if (isTrue(v)) this.walk(node.then, node.kind === "with" ? v : dot);
          else this.walk(node.else, dot);
          this.vars.length = mark;
        }
      }
    }
  }

  private write(text: string): void {
    this.out += text;
    if (this.out.length > MAX_TEMPLATE_OUTPUT) throw new TemplateExecError(`output longer than ${MAX_TEMPLATE_OUTPUT} characters`);
  }

  /** Go's range: lists (index, element), maps (sorted key, value), integers (0..n-1). */
  private range(node: Control, dot: Value): void {
    const mark = this.vars.length;
    const v = this.pipeline({ ...node.pipe, decl: undefined }, dot);
    let items: [Value, Value][];
    if (Array.isArray(v)) items = v.map((e, i) => [i, e]);
    else if (v instanceof Map) items = [...(v as ReadonlyMap<string, Value>).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    else if (typeof v === "number") {
      if (v > MAX_RANGE) throw new TemplateExecError(`range over ${v}: more than ${MAX_RANGE} iterations`);
      items = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    }
    else if (v === MISSING || v === null) items = [];
    else throw new TemplateExecError(`range can't iterate over ${printValue(v)}`);
    const names = node.pipe.decl?.names ?? [];
    for (const [key, element] of items) {
      const inner = this.vars.length;
      if (names.length === 1) this.vars.push({ name: names[0], value: typeof v === "number" ? key : element });
      if (names.length === 2) this.vars.push({ name: names[0], value: key }, { name: names[1], value: element });
      try {
        this.walk(node.then, typeof v === "number" ? key : element);
      } catch (signal) {
        if (signal === BREAK) break;
        if (signal !== CONTINUE) throw signal;
      } finally {
        this.vars.length = inner;
      }
    }
    if (items.length === 0) this.walk(node.else, dot);
    this.vars.length = mark;
  }

  private pipeline(pipe: Pipeline, dot: Value): Value {
    let value: Value | undefined;
    for (const cmd of pipe.commands) value = this.command(cmd, dot, value);
    if (pipe.decl) {
      const name = pipe.decl.names[0];
      if (pipe.decl.assign) {
        const v = [...this.vars].reverse().find((x) => x.name === name);
        if (!v) throw new TemplateExecError(`undefined variable: ${name}`);
        v.value = value!;
      } else this.vars.push({ name, value: value! });
    }
    return value!;
  }

  private command(cmd: Command, dot: Value, final: Value | undefined): Value {
    const [head, ...args] = cmd.operands;
    if (head.kind === "func") return this.call(head.name, args, dot, final);
    if (args.length > 0 || final !== undefined) {
      if (head.kind === "field" || head.kind === "var") throw new TemplateExecError(`can't give argument to non-function ${head.kind === "field" ? "." + head.chain.join(".") : head.name}`);
      throw new TemplateExecError(`can't give argument to non-function ${describeOperand(head)}`);
    }
    return this.operand(head, dot);
  }

  private operand(o: Operand, dot: Value): Value {
    switch (o.kind) {
      case "dot":
        return dot;
      case "field":
        return fieldChain(dot, o.chain);
      case "var": {
        const v = [...this.vars].reverse().find((x) => x.name === o.name);
        if (!v) throw new TemplateExecError(`undefined variable: ${o.name}`);
        return fieldChain(v.value, o.chain);
      }
      case "pipe":
        return fieldChain(this.pipeline(o.pipe, dot), o.chain);
      case "string":
        return o.value;
      case "number":
        return o.floatSyntax || o.int === undefined ? new GoFloat(o.float) : o.int;
      case "bool":
        return o.value;
      case "nil":
        return null;
      case "func":
        return this.call(o.name, [], dot, undefined);
    }
  }

  private call(name: string, args: Operand[], dot: Value, final: Value | undefined): Value {
    const fn = this.funcs[name];
    const count = args.length + (final === undefined ? 0 : 1);
    const fixed = fn.params.length;
    if (fn.variadic ? count < fixed : count !== fixed) {
      throw new TemplateExecError(`wrong number of args for ${name}: want ${fn.variadic ? "at least " : ""}${fixed} got ${count}`);
    }
    const typeAt = (i: number): ParamType => (i < fixed ? fn.params[i] : fn.variadic!);
    // and / or evaluate their arguments lazily, stopping at the deciding one.
    if (name === "and" || name === "or") {
      let v: Value = null;
      const all = [...args.map((a) => () => this.operand(a, dot)), ...(final === undefined ? [] : [() => final])];
      for (const get of all) {
        v = get();
        if (isTrue(v) === (name === "or")) return v;
      }
      return v;
    }
    const values: Value[] = args.map((a, i) => convertArg(name, typeAt(i), this.operand(a, dot), a));
    if (final !== undefined) values.push(convertArg(name, typeAt(args.length), final, undefined));
    try {
      return fn.call(...values);
    } catch (err) {
      if (err instanceof TemplateExecError) throw err;
      throw new TemplateExecError(`error calling ${name}: ${(err as Error).message}`);
    }
  }
}

function describeOperand(o: Operand): string {
  switch (o.kind) {
    case "string":
      return JSON.stringify(o.value);
    case "number":
      return o.text;
    case "bool":
      return String(o.value);
    default:
      return o.kind;
  }
}

/** Go's evalArg + validateType for one argument. */
function convertArg(fn: string, type: ParamType, v: Value, node: Operand | undefined): Value {
  const literal = node?.kind === "number" ? node : undefined;
  const bad = (): never => {
    throw new TemplateExecError(`error calling ${fn}: wrong type for value; expected ${goType(type)}; got ${typeName(v)}`);
  };
  switch (type) {
    case "value":
      return v;
    case "any":
      return v === MISSING ? null : v;
    case "string":
      if (v === MISSING) throw new TemplateExecError(`error calling ${fn}: invalid value; expected string`);
      return typeof v === "string" ? v : bad();
    case "bool":
      if (v === MISSING) throw new TemplateExecError(`error calling ${fn}: invalid value; expected bool`);
      return typeof v === "boolean" ? v : bad();
    case "int":
      if (v === MISSING) throw new TemplateExecError(`error calling ${fn}: invalid value; expected int`);
      if (literal && literal.int !== undefined) return literal.int; // an integer constant, even written 1.0
      return typeof v === "number" ? v : bad();
    case "float":
      if (v === MISSING) throw new TemplateExecError(`error calling ${fn}: invalid value; expected float64`);
      if (literal) return new GoFloat(literal.float);
      return v instanceof GoFloat ? v : bad();
  }
}

function goType(t: ParamType): string {
  return { string: "string", int: "int", float: "float64", bool: "bool", any: "interface {}", value: "reflect.Value" }[t];
}

/** `.a.b` on a value: map lookups; a missing key is MISSING; fields of anything else fail as in Go. */
function fieldChain(v: Value, chain: readonly string[]): Value {
  for (const name of chain) {
    if (v instanceof Map) {
      v = v.has(name) ? (v.get(name) as Value) : MISSING;
      continue;
    }
    if (v === MISSING || v === null) throw new TemplateExecError(`nil data; no entry for key ${JSON.stringify(name)}`);
    throw new TemplateExecError(`can't evaluate field ${name} in type ${typeName(v)}`);
  }
  return v;
}
