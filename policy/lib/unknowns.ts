/**
 * Values that are not known yet. During `pulumi preview` an input computed from another
 * resource's output (an ARN, a generated name) reaches the pack as a sentinel string, and the
 * engine wraps `props` in a proxy that throws `UnknownValueError` when such a value is read.
 *
 * The pack reads through `readKnown`, which turns both forms into `UNKNOWN`, so a policy decides
 * per value what an unknown means (skip the check, or assume the setting is present) instead of
 * crashing. A policy that cannot decide anything without the value throws `unknownAtPreview`,
 * which the engine reports as an advisory "can't run … during preview" note; `pulumi up` then
 * runs the policy again on the resolved values.
 */
// Exported by the package's index, but declared in a `.d.ts` that exports nothing: typed `any`.
import { UnknownValueError } from "@pulumi/policy";

/**
 * The engine's sentinel for an unknown value (the plugin protocol's UnknownStringValue, also
 * `pulumi.runtime.unknownValue`); the tests check the two stay equal.
 */
export const UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export const UNKNOWN: unique symbol = Symbol("unknown at preview");
export type Unknown = typeof UNKNOWN;
export type Maybe<T> = T | Unknown;

export function isUnknown<T>(value: Maybe<T>): value is Unknown {
  return value === UNKNOWN;
}

/** Reads a value, mapping the engine's unknown forms to UNKNOWN. */
export function readKnown<T>(read: () => T): Maybe<T> {
  try {
    const value = read();
    return (value as unknown) === UNKNOWN_SENTINEL ? UNKNOWN : value;
  } catch (err) {
    if (err instanceof UnknownValueError) return UNKNOWN;
    throw err;
  }
}

/** A value at `path` of a resource's properties (an array of keys), unknown-aware. */
export function readPath(props: unknown, path: readonly (string | number)[]): Maybe<unknown> {
  return readKnown(() => {
    let value: unknown = props;
    for (const key of path) {
      if (value === null || typeof value !== "object") return undefined;
      value = (value as Record<string | number, unknown>)[key];
      if (value === UNKNOWN_SENTINEL) return value;
    }
    return value;
  });
}

/** A string at `path`, or undefined when absent or not a string. */
export function readString(props: unknown, path: readonly (string | number)[]): Maybe<string | undefined> {
  const value = readPath(props, path);
  if (isUnknown(value)) return UNKNOWN;
  return typeof value === "string" ? value : undefined;
}

/** A number at `path` (numeric strings accepted), or undefined when absent. */
export function readNumber(props: unknown, path: readonly (string | number)[]): Maybe<number | undefined> {
  const value = readPath(props, path);
  if (isUnknown(value)) return UNKNOWN;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

/** An array at `path` (empty when absent), or UNKNOWN. */
export function readArray(props: unknown, path: readonly (string | number)[]): Maybe<unknown[]> {
  const value = readPath(props, path);
  if (isUnknown(value)) return UNKNOWN;
  return Array.isArray(value) ? value : [];
}

/**
 * The error that tells the engine a policy cannot run at preview because of the value at
 * `path`. It is the engine's own error type, so the engine reports it as it reports reading an
 * unknown value through its proxy: an advisory note, never a failure.
 */
export function unknownAtPreview(path: readonly string[]): Error {
  return new UnknownValueError(UNKNOWN_SENTINEL, [...path]) as Error;
}
