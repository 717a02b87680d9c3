/**
 * Policy configuration: the schema the engine validates (`pulumi policy enable --config`,
 * `pulumi preview --policy-pack-config`) and typed reads that fall back to the defaults, so a
 * policy behaves the same whether or not the engine filled the defaults in.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";

interface ConfigSource {
  getConfig<T extends object>(): T;
}

/** The policy's configuration over `defaults`; properties not given (or null) keep their default. */
export function configOf<T extends object>(args: ConfigSource, defaults: T): T {
  const given = (args.getConfig<Partial<T>>() ?? {}) as Record<string, unknown>;
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(given)) {
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out as T;
}

/** Schema property: the allow-list of label names known to be low-cardinality. */
export const LOW_CARDINALITY_LABELS_SCHEMA: PolicyConfigSchema["properties"][string] = {
  type: "array",
  items: { type: "string", pattern: "^[a-zA-Z_][a-zA-Z0-9_]*$" },
  default: [],
  description: "Label names known to be low-cardinality: never reported, whatever values they are computed from.",
};
