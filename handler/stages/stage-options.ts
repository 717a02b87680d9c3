/**
 * Reading one stage's options from LOKI_STAGE_CONFIGS with Promtail's option names. Promtail
 * silently ignores an unknown option; here it is an error naming it (with the closest known
 * name), because a misspelt `drop_malformed` that is ignored drops nothing and says nothing.
 * Every error is a ConfigError whose setting is the option's position, e.g.
 * `LOKI_STAGE_CONFIGS[2].json.expressions`.
 */
import { ConfigError } from "../config-error";
import { describeJson, suggest } from "../describe";
import { Regex, RegexSyntaxError } from "../regex";

export class StageOptions {
  private readonly values: Readonly<Record<string, unknown>>;

  /**
   * `where` is the stage's position (`LOKI_STAGE_CONFIGS[2].json`); `known` its option names.
   * Promtail accepts a stage without options (`{"decolorize": null}`), read as no options set.
   */
  constructor(raw: unknown, readonly where: string, private readonly known: readonly string[]) {
    if (raw === null || raw === undefined) {
      this.values = {};
      return;
    }
    if (typeof raw !== "object" || Array.isArray(raw)) {
      throw new ConfigError(where, `must be an object of options, got ${describeJson(raw)}`, known.length > 0 ? `an object with the options ${known.join(", ")}` : "an empty object or null");
    }
    this.values = raw as Record<string, unknown>;
    for (const key of Object.keys(this.values)) {
      if (known.includes(key)) continue;
      const near = suggest(key, known);
      throw new ConfigError(`${where}.${key}`, `is not an option of this stage${near ? ` (did you mean "${near}"?)` : ""}`, known.length > 0 ? `one of ${known.join(", ")}` : "no options");
    }
  }

  has(name: string): boolean {
    const value = this.values[name];
    return value !== undefined && value !== null;
  }

  /** Throws the ConfigError for one option. */
  fail(name: string, problem: string, form: string): never {
    throw new ConfigError(`${this.where}.${name}`, problem, form);
  }

  string(name: string, form: string): string | undefined;
  string(name: string, form: string, fallback: string): string;
  string(name: string, form: string, fallback?: string): string | undefined {
    const value = this.values[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "string") return this.fail(name, `must be a string, got ${describeJson(value)}`, form);
    return value;
  }

  requiredString(name: string, form: string): string {
    const value = this.string(name, form);
    if (value === undefined || value === "") return this.fail(name, "is required", form);
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.values[name];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "boolean") return this.fail(name, `must be true or false, got ${describeJson(value)}`, "true or false");
    return value;
  }

  /** A whole number; YAML-converted JSON may carry it as a string ("3"). */
  integer(name: string, form: string, min: number): number | undefined {
    const value = this.values[name];
    if (value === undefined || value === null) return undefined;
    const n = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min) return this.fail(name, `must be a whole number of at least ${min}, got ${describeJson(value)}`, form);
    return n;
  }

  /** A number (fractions allowed). */
  number(name: string, form: string): number | undefined {
    const value = this.values[name];
    if (value === undefined || value === null) return undefined;
    const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    if (typeof n !== "number" || !Number.isFinite(n)) return this.fail(name, `must be a number, got ${describeJson(value)}`, form);
    return n;
  }

  /**
   * A map of names to strings where an empty or null value means "the same as the name"
   * (Promtail's `labels: {level: ""}` and `expressions: {level: ""}`).
   */
  nameMap(name: string, form: string): Map<string, string> | undefined {
    const value = this.values[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) return this.fail(name, `must be an object, got ${describeJson(value)}`, form);
    const out = new Map<string, string>();
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (item === null || item === undefined || item === "") out.set(key, key);
      else if (typeof item === "string") out.set(key, item);
      else this.fail(`${name}.${key}`, `must be a string or empty, got ${describeJson(item)}`, form);
    }
    return out;
  }

  /** A list of strings; a single string is accepted as a list of one. */
  stringList(name: string, form: string): string[] | undefined {
    const value = this.values[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === "string") return [value];
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) return this.fail(name, `must be a list of strings, got ${describeJson(value)}`, form);
    return value as string[];
  }

  /** A Go RE2 regular expression option. */
  regex(name: string, required: true): Regex;
  regex(name: string, required: false): Regex | undefined;
  regex(name: string, required: boolean): Regex | undefined {
    const form = "a regular expression in Go RE2 syntax (as Promtail reads it)";
    const source = required ? this.requiredString(name, form) : this.string(name, form);
    if (source === undefined || source === "") return undefined;
    try {
      return Regex.compile(source);
    } catch (err) {
      if (err instanceof RegexSyntaxError) return this.fail(name, `is not a valid regular expression: ${err.reason}`, form);
      throw err;
    }
  }

  /** The raw value, for options with their own shape (nested stages). */
  raw(name: string): unknown {
    return this.values[name];
  }
}
