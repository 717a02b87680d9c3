/** Wording shared by every policy: settings are named by variable and stack config key. */
import { SETTINGS } from "../../handler/config";

/** `KEEP_STREAM (stack config keepStream)`: what a user of the program or of a hand-made stack looks for. */
export function setting(env: string): string {
  const spec = SETTINGS.find((s) => s.env === env);
  return spec ? `${env} (stack config ${spec.stackKey})` : env;
}

/** `function "lambda-promtail-function"` */
export function functionRef(name: string): string {
  return `function "${name}"`;
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
