/**
 * What each answer of a Loki push endpoint means for the entries of the push, as one table:
 * the client acts on it, the pipeline logs its `fix`, and the README's "Loki's answers" table
 * is generated from it (scripts/readme-tables.ts), so the three cannot drift apart.
 *
 * The rule behind the table: only an answer that says Loki stored something may acknowledge
 * entries. 2xx stored everything; 400 stored the valid entries (Loki's validation refuses
 * entries one by one and says why); a single entry answered 413 can never be stored. Every
 * other answer stores nothing: transient ones are retried within the invocation, and the rest
 * fail their records so that the event source retries them later or dead-letters them.
 */

export type AnswerAction =
  /** Stored: the entries are delivered. */
  | "stored"
  /** Loki stored the valid entries and refused the rest for good: never resent, counted as rejected. */
  | "reject"
  /** Too large: split in halves and resent; a single entry answered so is rejected. */
  | "split"
  /** Transient: resent after a backoff while time and retries allow, then the records fail. */
  | "retry"
  /**
   * Nothing stored and resending now would get the same answer (credentials, tenant, address):
   * the records fail at once and no further push is made in this invocation.
   */
  | "refuse";

export interface LokiAnswerRule {
  /** The statuses the rule covers, as the README shows them. */
  statuses: string;
  matches(status: number): boolean;
  action: AnswerAction;
  /** What the shipper does with the push and its records. */
  handling: string;
  /** The likely cause and what to change; logged with a refused push. */
  fix: string;
  /** Whether the configured push URL helps the reader of the log (address problems). */
  aboutAddress?: boolean;
}

const REFUSED = "Refused, nothing stored: the records fail at once (the event source retries them, then dead-letters them), no further push is made in this invocation, and one error logs the status, Loki's answer and the fix.";

export const LOKI_ANSWERS: readonly LokiAnswerRule[] = [
  {
    statuses: "2xx",
    matches: (s) => s >= 200 && s < 300,
    action: "stored",
    handling: "Delivered.",
    fix: "",
  },
  {
    statuses: "400",
    matches: (s) => s === 400,
    action: "reject",
    handling: "Loki stored the valid entries and refused the others (\"entry too far behind\", line too long, ...). Not resent; Loki's reason is logged as a warning and the push's entries are counted as `rejected`.",
    fix: "Loki's reason says which limit an entry broke (e.g. `reject_old_samples_max_age`, `max_line_size`, out-of-order window).",
  },
  {
    statuses: "413",
    matches: (s) => s === 413,
    action: "split",
    handling: "Split in halves, each resent; a single entry that is still answered 413 is counted as `rejected`.",
    fix: "Loki's `distributor.max_recv_msg_size` or a proxy's body limit (e.g. nginx `client_max_body_size`) is below the push size: lower BATCH_SIZE.",
  },
  {
    statuses: "408, 429, 5xx, network errors, timeouts",
    matches: (s) => s === 408 || s === 429 || (s >= 500 && s < 600),
    action: "retry",
    handling: "Resent with exponential backoff and full jitter (`Retry-After` on 429/503) while the invocation's time allows; then the records fail.",
    fix: "Loki is overloaded, restarting or unreachable; a 429 names the tenant's ingestion limit.",
  },
  {
    statuses: "401",
    matches: (s) => s === 401,
    action: "refuse",
    handling: REFUSED,
    fix: "The credentials are missing, wrong or expired: check USERNAME and PASSWORD or BEARER_TOKEN (and the secret they point to). A multi-tenant Loki without a gateway also answers 401 \"no org id\" when TENANT_ID is unset.",
  },
  {
    statuses: "403",
    matches: (s) => s === 403,
    action: "refuse",
    handling: REFUSED,
    fix: "Authenticated but not allowed: the token lacks write permission for logs (e.g. a Grafana Cloud access policy without `logs:write`), or TENANT_ID names a tenant these credentials may not write to (a multi-tenant Loki needs TENANT_ID).",
  },
  {
    statuses: "404, 405, 410",
    matches: (s) => s === 404 || s === 405 || s === 410,
    action: "refuse",
    handling: REFUSED,
    fix: "WRITE_ADDRESS is not a Loki push endpoint: it must be the full push URL, ending in /loki/api/v1/push (e.g. https://logs-prod-eu-west-0.grafana.net/loki/api/v1/push).",
    aboutAddress: true,
  },
  {
    statuses: "415",
    matches: (s) => s === 415,
    action: "refuse",
    handling: REFUSED,
    fix: "WRITE_ADDRESS does not take Loki's protobuf push (e.g. an OTLP endpoint or a JSON-only proxy): point it at .../loki/api/v1/push.",
    aboutAddress: true,
  },
  {
    statuses: "407",
    matches: (s) => s === 407,
    action: "refuse",
    handling: REFUSED,
    fix: "A proxy between the function and Loki demands its own authentication, which the shipper does not send: let the function reach Loki directly (VPC route or endpoint).",
  },
  {
    statuses: "411, 431",
    matches: (s) => s === 411 || s === 431,
    action: "refuse",
    handling: REFUSED,
    fix: "A proxy in front of Loki refused the request's form (411: it lost the Content-Length the shipper sends; 431: headers too large, e.g. a very long BEARER_TOKEN).",
  },
  {
    statuses: "3xx",
    matches: (s) => s >= 300 && s < 400,
    action: "refuse",
    handling: REFUSED + " Redirects are not followed: a push is not resent to another address.",
    fix: "WRITE_ADDRESS redirects (e.g. http:// to https://, or a moved host): set it to the final address.",
    aboutAddress: true,
  },
  {
    statuses: "409, 412, 422, 451, any other status",
    matches: () => true,
    action: "refuse",
    handling: REFUSED,
    fix: "Loki does not give this answer: something else answers at WRITE_ADDRESS (a proxy, a WAF, another service). Nothing is known to be stored, so nothing is acknowledged.",
    aboutAddress: true,
  },
];

/** The rule for an HTTP status; the last rule catches everything else. */
export function answerRule(status: number): LokiAnswerRule {
  return LOKI_ANSWERS.find((rule) => rule.matches(status)) ?? LOKI_ANSWERS[LOKI_ANSWERS.length - 1];
}
