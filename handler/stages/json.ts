/**
 * The `json` stage: parses the line (or `source`) as a JSON object and extracts one value per
 * JMESPath expression (`expressions`: extracted name -> expression, empty meaning the name
 * itself). Numbers, strings, booleans and null are extracted as they are; objects and arrays as
 * their JSON text, as Promtail does. A line that is not a JSON object is left alone, or dropped
 * with `drop_malformed: true`.
 *
 * JMESPath is `@jmespath-community/jmespath` (expressions compiled once); plain field paths
 * (`level`, `http.status`, `"dotted.key"`), what most pipelines use, are read directly.
 */
import type * as Jmespath from "@jmespath-community/jmespath";
import { readTopLevelFields } from "./json-fields";
import { StageOptions } from "./stage-options";
import { readSource, SOURCE_FORM } from "./source";
import { setValue, type Stage, type StageEntry, type StageFactory } from "./types";

let engine: typeof Jmespath | undefined;
function jmespath(): typeof Jmespath {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded with the first json stage, not at every cold start
  return (engine ??= require("@jmespath-community/jmespath") as typeof Jmespath);
}

type Getter = (data: unknown) => unknown;
type ExpressionNode = ReturnType<typeof Jmespath.compile>;

const EXPRESSIONS_FORM = 'an object of extracted names to JMESPath expressions, e.g. {"level":"level","status":"http.status","user":""} (empty: the name itself)';

export const jsonStage: StageFactory = (raw, where) => {
  const options = new StageOptions(raw, where, ["expressions", "source", "drop_malformed"]);
  const expressions = options.nameMap("expressions", EXPRESSIONS_FORM);
  if (expressions === undefined || expressions.size === 0) throw options.fail("expressions", "is required and must name at least one value", EXPRESSIONS_FORM);
  const names = [...expressions.keys()];
  const compiled = [...expressions].map(([name, expression]) => compileExpression(expression, options, `expressions.${name}`));
  const source = options.string("source", SOURCE_FORM);
  const dropMalformed = options.boolean("drop_malformed", false);
  const malformed = { drop: "malformed_json" };
  const getters = compiled.map((c) => c.get);
  // What most pipelines are: every expression a top-level field (`level`, `"dotted.key"`), and
  // no name that needs setValue's care (`__proto__`). Those are read in one loop, without a call
  // per expression: a json stage runs on every line.
  const fields = compiled.map((c) => c.field);
  const topLevel = !names.includes("__proto__") && fields.every((field) => field !== undefined) ? (fields as string[]) : undefined;
  // Whether a field's name is one every object inherits (constructor, toString, __proto__, ...):
  // only then does reading it need a check that the line has it; a parsed value is never undefined.
  const inherited = fields.map((field) => field !== undefined && field in Object.prototype);

  const values: unknown[] = [];
  return {
    name: "json",
    process(entry: StageEntry) {
      const input = readSource(entry, source);
      if (input === undefined) return undefined;
      if (topLevel !== undefined && readTopLevelFields(input, topLevel, values, goJson)) {
        const extracted = entry.extracted;
        for (let i = 0; i < names.length; i++) extracted[names[i]] = values[i];
        return undefined;
      }
      const data = parseObjectOnce(input);
      if (data === undefined) return dropMalformed ? malformed : undefined;
      const extracted = entry.extracted;
      if (topLevel !== undefined) {
        for (let i = 0; i < names.length; i++) {
          const field = topLevel[i];
          // The data is a parsed object (never an array), so readPath's checks reduce to this.
          let value = data[field];
          if (value === undefined || (inherited[i] && !Object.hasOwn(data, field))) value = null;
          extracted[names[i]] = typeof value === "object" && value !== null ? goJson(value) : value;
        }
      } else {
        for (let i = 0; i < names.length; i++) setValue(extracted, names[i], extractedValue(getters[i](data)));
      }
      return undefined;
    },
  } satisfies Stage;
};

/**
 * The last text parsed and its result: a pipeline with several json stages reading the same line
 * (or the same extracted value) parses it once. Sound because nothing changes a parsed object:
 * field paths and the JMESPath interpreter only read it.
 */
let lastInput: string | undefined;
let lastParsed: Record<string, unknown> | undefined;

function parseObjectOnce(input: string): Record<string, unknown> | undefined {
  if (input !== lastInput) {
    lastParsed = parseObject(input);
    lastInput = input;
  }
  return lastParsed;
}

function parseObject(input: string): Record<string, unknown> | undefined {
  // A cheap first look: most malformed lines are plain text.
  if (input.length < 2 || input.charCodeAt(firstNonSpace(input)) !== 123 /* { */) return undefined;
  try {
    const value: unknown = JSON.parse(input);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function firstNonSpace(s: string): number {
  let i = 0;
  while (i < s.length && (s[i] === " " || s[i] === "\t" || s[i] === "\n" || s[i] === "\r")) i++;
  return i;
}

/** A compiled expression: how to read it from the parsed line, and the field it names when it is one top-level field. */
interface CompiledExpression {
  get: Getter;
  field?: string;
}

function compileExpression(expression: string, options: StageOptions, option: string): CompiledExpression {
  const form = "a JMESPath expression, e.g. level, http.status, items[0].id or \"dotted.key\"";
  let ast: ExpressionNode;
  try {
    ast = jmespath().compile(expression);
  } catch (err) {
    return options.fail(option, `${JSON.stringify(expression)} is not a valid JMESPath expression: ${(err as Error).message}`, form);
  }
  const path = fieldPath(ast);
  if (path !== undefined && path.length === 1) {
    // A top-level field: the data is a parsed object (never an array), so readPath's checks reduce to this.
    const field = path[0];
    return { get: (data) => (Object.hasOwn(data as object, field) ? (data as Record<string, unknown>)[field] : null), field };
  }
  if (path !== undefined) return { get: (data) => readPath(data, path) };
  const interpreter = jmespath().TreeInterpreter;
  // The library reads a field as `value[name] ?? null`, so `constructor` or `toString` would find
  // Object.prototype's members where JMESPath (and Go's go-jmespath, Promtail's) finds no field.
  // An expression naming one is evaluated on a copy of the data whose objects have no prototype.
  if (namesInheritedField(ast)) return { get: (data) => interpreter.search(ast, withoutPrototypes(data) as Jmespath.JSONValue) };
  return { get: (data) => interpreter.search(ast, data as Jmespath.JSONValue) };
}

/** Whether the expression reads a field whose name an ordinary object inherits. */
function namesInheritedField(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(namesInheritedField);
  if (typeof node !== "object" || node === null) return false;
  const n = node as { type?: unknown; name?: unknown };
  if (n.type === "Field" && typeof n.name === "string" && n.name in Object.prototype) return true;
  return Object.values(node).some(namesInheritedField);
}

/** A deep copy of parsed JSON whose objects have a null prototype (own fields only). */
function withoutPrototypes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPrototypes);
  if (typeof value !== "object" || value === null) return value;
  const copy = Object.setPrototypeOf({}, null) as Record<string, unknown>;
  for (const [name, field] of Object.entries(value)) copy[name] = withoutPrototypes(field);
  return copy;
}

/** The field names of an expression made of field accesses only (`a.b."c.d"`), else undefined. */
function fieldPath(node: ExpressionNode): string[] | undefined {
  const n = node as { type: string; name?: string; left?: ExpressionNode; right?: ExpressionNode };
  if (n.type === "Field" && typeof n.name === "string") return [n.name];
  if (n.type === "Subexpression" && n.left && n.right) {
    const left = fieldPath(n.left);
    const right = fieldPath(n.right);
    return left && right ? [...left, ...right] : undefined;
  }
  return undefined;
}

/** JMESPath field access: a missing field, or a field of something that is not an object, is null. */
function readPath(data: unknown, path: readonly string[]): unknown {
  let value = data;
  for (const name of path) {
    if (typeof value !== "object" || value === null || Array.isArray(value) || !Object.hasOwn(value, name)) return null;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** Scalars as they are; objects and arrays as JSON text the way Go's encoding/json writes it. */
function extractedValue(value: unknown): unknown {
  if (typeof value !== "object") return value === undefined ? null : value;
  return value === null ? null : goJson(value);
}

/** Go's json.Marshal: object keys sorted by their bytes, and <, >, &, U+2028, U+2029 escaped. */
export function goJson(value: unknown): string {
  return marshal(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function marshal(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(marshal).join(",")}]`;
  if (typeof value !== "object" || value === null) return JSON.stringify(value) ?? "null";
  // Written by hand: a JavaScript object would put integer-like keys first whatever the sort.
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
  return `{${keys.map((key) => `${JSON.stringify(key)}:${marshal(record[key])}`).join(",")}}`;
}
