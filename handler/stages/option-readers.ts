/**
 * Reading a stage's options object (one element of LOKI_STAGE_CONFIGS): every option is checked
 * for its type and unknown options are named, where Promtail silently ignores them.
 * Errors are ConfigErrors naming `where.option` and the accepted form.
 */
import { ConfigError } from "../config";

export type StageOptions = Readonly<Record<string, unknown>>;

/** The options as an object, with every key in `known`. */
export function stageOptions(options: unknown, where: string, known: readonly string[], form: string): StageOptions {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new ConfigError(where, `expected an object of options, got ${JSON.stringify(options)}`, form);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${where}.${key}`, "unknown option", `one of ${known.join(", ")}`);
    }
  }
  return options as StageOptions;
}

/** A string option; `required` also refuses "". */
export function stringOption(options: StageOptions, where: string, name: string, required: true, form: string): string;
export function stringOption(options: StageOptions, where: string, name: string, required: false, form: string): string | undefined;
export function stringOption(options: StageOptions, where: string, name: string, required: boolean, form: string): string | undefined {
  const value = options[name];
  if (value === undefined || value === null) {
    if (required) throw new ConfigError(`${where}.${name}`, "missing", form);
    return undefined;
  }
  if (typeof value !== "string") throw new ConfigError(`${where}.${name}`, `expected a string, got ${JSON.stringify(value)}`, form);
  if (required && value === "") throw new ConfigError(`${where}.${name}`, "empty", form);
  return value;
}

/** A list of strings. */
export function stringListOption(options: StageOptions, where: string, name: string, form: string): string[] {
  const value = options[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new ConfigError(`${where}.${name}`, `expected a list of strings, got ${JSON.stringify(value)}`, form);
  }
  return value as string[];
}

/** One of a fixed set of words, `fallback` when absent. */
export function choiceOption<T extends string>(options: StageOptions, where: string, name: string, choices: readonly T[], fallback: T): T {
  const value = options[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    throw new ConfigError(`${where}.${name}`, `${JSON.stringify(value)} is not supported`, `one of ${choices.join(", ")} (default ${fallback})`);
  }
  return value as T;
}
