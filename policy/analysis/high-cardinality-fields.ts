/**
 * Names of values that are unbounded by nature: a label made from one gives Loki a stream per
 * distinct value. Used to judge `labels` stages (LOKI_STAGE_CONFIGS), whose sources are values
 * parsed out of log lines: the pack cannot see the lines, only what the values are called (the
 * label, the extracted name, the JSON path or logfmt key or regex group it came from).
 *
 * A name is split into lowercase words (`requestId`, `request-id`, `x_amzn_RequestId` ->
 * request, id), and judged by its last word, or by the whole name for the few words that are
 * unbounded on their own. The lists are deliberately short and certain; a label a team knows to
 * be bounded is accepted through the policy's `lowCardinalityLabels`.
 */

/** What the value of a name like this is, for messages. */
export type UnboundedKind = "an identifier" | "a timestamp or duration" | "a network address" | "a user" | "free text" | "a URL or path" | "a size or count";

/** By the name's last word. */
const LAST_WORD: ReadonlyArray<[UnboundedKind, readonly string[]]> = [
  ["an identifier", ["id", "ids", "uuid", "guid", "traceid", "spanid", "requestid", "traceparent", "token", "nonce", "sha", "hash", "fingerprint"]],
  ["a timestamp or duration", ["timestamp", "ts", "time", "datetime", "date", "at", "epoch", "duration", "latency", "elapsed", "took", "ms", "millis", "seconds"]],
  ["a network address", ["ip", "ips", "ipv4", "ipv6", "addr", "address", "port", "xff"]],
  ["a user", ["user", "username", "email", "login", "userid"]],
  ["free text", ["message", "msg", "line", "log", "body", "text", "stacktrace", "stack", "exception", "query", "sql", "useragent"]],
  ["a URL or path", ["url", "uri", "path", "referer", "referrer", "href", "querystring"]],
  ["a size or count", ["bytes", "size", "length", "len"]],
];

/** Whole names that say nothing unbounded on their last word alone (`trace`, `span`, `session`). */
const WHOLE_NAME: ReadonlyArray<[UnboundedKind, readonly string[]]> = [
  ["an identifier", ["trace", "span", "session", "request", "correlation", "rid", "reqid", "xid"]],
  ["a network address", ["forwarded for", "x forwarded for"]],
  ["free text", ["user agent"]],
];

/**
 * Identifiers of things that exist once per AWS resource or deployment unit: `account_id`,
 * `region_id`… are bounded. (A tenant, customer or order id is not: no exception for those.)
 */
const BOUNDED_OWNERS = new Set(["account", "region", "zone", "az", "cluster", "env", "environment", "namespace", "app", "application", "service", "stage", "partition", "distribution", "function"]);

/** `requestId` -> ["request", "id"]; `x-forwarded-for` -> ["x", "forwarded", "for"]. */
export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== "");
}

/** What a value called `name` is when it is unbounded by nature, else undefined. */
export function unboundedKind(name: string): UnboundedKind | undefined {
  const w = words(name);
  if (w.length === 0) return undefined;
  const whole = w.join(" ");
  for (const [kind, names] of WHOLE_NAME) if (names.includes(whole)) return kind;
  const last = w[w.length - 1];
  for (const [kind, names] of LAST_WORD) {
    if (!names.includes(last)) continue;
    if (kind === "an identifier" && w.length > 1 && BOUNDED_OWNERS.has(w[w.length - 2])) return undefined;
    return kind;
  }
  return undefined;
}
