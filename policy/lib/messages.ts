/**
 * Wording shared by every policy: settings are named by the variable the function reads (and,
 * for the shipper, the program's stack config key), functions by their logical name.
 */
import { SETTINGS } from "../../handler/config";
import { SHIPPER_FUNCTION, ShipperKind, variable } from "./environment";

function stackKey(env: string): string | undefined {
  return SETTINGS.find((s) => s.env === env)?.stackKey;
}

/**
 * `KEEP_STREAM (stack config keepStream)` for the shipper, `LOKI_EXTRA_LABELS` for the telemetry
 * extension (set through LokiExtension's settings, which have no stack config key): what a user
 * looks for.
 */
export function setting(env: string, kind: ShipperKind = SHIPPER_FUNCTION): string {
  if (kind !== SHIPPER_FUNCTION) return variable(kind, env);
  const key = stackKey(env);
  return key ? `${env} (stack config ${key})` : env;
}

/** `set SKIP_TLS_VERIFY=false (\`pulumi config set skipTlsVerify false\`)`, or the extension's variable. */
export function assignment(env: string, value: string, kind: ShipperKind = SHIPPER_FUNCTION): string {
  if (kind !== SHIPPER_FUNCTION) return `set ${variable(kind, env)}=${value} (in the settings given to LokiExtension, or the function's environment)`;
  const key = stackKey(env);
  return `set ${env}=${value}${key ? ` (\`pulumi config set ${key} ${value}\`)` : ""}`;
}

/** `function "lambda-promtail-function"`, or `the telemetry extension of function "orders"`. */
export function functionRef(name: string, kind: ShipperKind = SHIPPER_FUNCTION): string {
  return kind === SHIPPER_FUNCTION ? `function "${name}"` : `the telemetry extension of function "${name}"`;
}

export function quoteList(items: readonly string[], max = 8): string {
  const shown = items.slice(0, max).map((i) => `"${i}"`);
  if (items.length > max) shown.push(`and ${items.length - max} more`);
  return shown.join(", ");
}

/** `label "a"` or `labels "a", "b"`. */
export function labelsPhrase(names: readonly string[]): string {
  return `${names.length === 1 ? "label" : "labels"} ${quoteList(names)}`;
}
