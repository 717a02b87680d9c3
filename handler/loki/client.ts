/**
 * Pushes streams to Loki: one protobuf request per call, retried and split as Loki's answers
 * require, never past the Lambda's deadline.
 *
 *  - 2xx: stored.
 *  - 429, 5xx, 408, network errors and timeouts: retried with exponential backoff and full
 *    jitter, or after `Retry-After` (429/503) when that fits in the time left. A random backoff
 *    longer than the time left is cut to it for one last request.
 *  - 413: the request is too large for Loki or a proxy in front of it; its body is decoded
 *    back into streams (decode.ts: a push keeps only its body, not its entries) and its entries
 *    split in two halves pushed one after the other (recursively). A single entry that still
 *    gets 413 can never be stored and is rejected.
 *  - 400: Loki stored the valid entries and rejected the rest ("entry too far behind", "line
 *    too long", ...). Resending would not help; the request's entries are reported as
 *    rejected with Loki's reason.
 *  - Anything else (401, 403, 404, 3xx, ...): nothing was stored and resending now would get
 *    the same answer. The push fails at once with the likely fix (answers.ts has the whole
 *    table); the caller, which knows the invocation, logs it once and stops pushing.
 *  - The deadline's `signal` (the invocation's cutoff) ends a push at once, whatever it waits
 *    for: the request in flight is destroyed and a backoff cut short, and the report (failed,
 *    `cutOff`) resolves in the same turn of the event loop, without waiting for the socket's
 *    teardown: after the cutoff the handler's margin is for reporting, not for closing sockets.
 *
 * Only Node's http/https modules are used, with a keep-alive agent: a warm Lambda reuses
 * its connection to Loki across invocations.
 */
import * as http from "node:http";
import * as https from "node:https";
import { setTimeout as sleepFor } from "node:timers/promises";
import { untilAborted } from "../deadline";
import type { Deadline, Log } from "../types";
import { USER_AGENT } from "../version";
import { answerRule } from "./answers";
import { decodePushBody } from "./decode";
import { encodePush, type EncodedPush } from "./encode";
import { splitInHalves } from "./split";

export type LokiAuth = { username: string; password: string } | { bearerToken: string };

export interface LokiClientOptions {
  /** Push URL, e.g. `https://logs.example.com/loki/api/v1/push`. User info in the URL is used as basic auth when `auth` is unset. */
  url: string;
  auth?: LokiAuth;
  /** Sent as `X-Scope-OrgID` (multi-tenant Loki). */
  tenantId?: string;
  /** Accept any TLS certificate (self-signed test setups only). */
  skipTlsVerify?: boolean;
  userAgent?: string;
  log: Log;
  /** Injectable for tests; `signal` (the deadline's) ends the wait early. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Injectable for tests; returns a number in [0, 1). */
  random?: () => number;
  /** Backoff ceiling of the first retry (default 100 ms); it doubles per retry up to `maxBackoffMs`. */
  minBackoffMs?: number;
  /** Largest backoff ceiling (default 30 s). */
  maxBackoffMs?: number;
  /** Retries per request before giving up (default 10, as lambda-promtail). */
  maxRetries?: number;
  /**
   * Time kept back before the Lambda deadline for the handler to report failures (default
   * 1000 ms), but never more than a quarter of the time left when `push` is called.
   */
  safetyMarginMs?: number;
  /** A request needs at least this much time left to be started (default 100 ms). */
  minRequestMs?: number;
  /** Longest a single request may take even when more time is left (default 30 s). */
  maxRequestMs?: number;
}

export interface PushReport {
  /** ok: all entries stored; rejected: Loki refused some entries for good; failed: not (all) stored, retry later. */
  outcome: "ok" | "rejected" | "failed";
  /** HTTP requests sent, retries included. */
  pushes: number;
  /** Requests that were resends of an earlier one. */
  retries: number;
  /** Times a request answered 413 was split in two. */
  splits: number;
  /** Entries Loki refused for good (in requests answered 400 and similar, or single entries answered 413). */
  rejectedEntries: number;
  /** The HTTP status behind the outcome, when there was one. */
  status?: number;
  /** Loki's reason (first ~1 KB of its answer) or the network error behind the outcome. */
  message?: string;
  /**
   * Set when Loki refused the push outright (401, 403, 404, ...: nothing stored, resending
   * would not help): the likely cause and what to change. Not logged by the client: the
   * caller logs it once per invocation.
   */
  fix?: string;
  /**
   * Set when the deadline's signal (the invocation's cutoff) ended the push: its entries may or
   * may not have been stored. Not logged by the client: the caller knows its time is up.
   */
  cutOff?: boolean;
}

export const DEFAULT_USER_AGENT = USER_AGENT;

const DEFAULTS = {
  minBackoffMs: 100,
  maxBackoffMs: 30_000,
  maxRetries: 10,
  safetyMarginMs: 1000,
  minRequestMs: 100,
  maxRequestMs: 30_000,
};
/** The safety margin never takes more than this share of the time left. */
const SAFETY_MARGIN_MAX_SHARE = 0.25;
/** Loki's error messages are short; a longer body is an HTML error page of some proxy. */
const MAX_MESSAGE_BYTES = 1024;

/** Where one push goes: its headers (the tenant's X-Scope-OrgID) and what its log lines name. */
interface Target {
  headers: Readonly<Record<string, string>>;
  log: { url: string; tenant?: string };
}

/** What one HTTP exchange produced. */
type Exchange =
  | { kind: "response"; status: number; message: string; retryAfter: string | undefined; location: string | undefined }
  | { kind: "error"; message: string; reusedSocket: boolean }
  /** The deadline's signal aborted the request. */
  | { kind: "cut-off" };

/** What sending one body (with its retries) produced. */
interface Delivery {
  verdict: "ok" | "rejected" | "too-large" | "failed";
  pushes: number;
  retries: number;
  status?: number;
  message?: string;
  /** See PushReport.fix. */
  fix?: string;
  /** See PushReport.cutOff. */
  cutOff?: boolean;
}

/** The time a push may use: the deadline minus a safety margin fixed when the push starts, and the deadline's cutoff signal. */
class TimeBudget {
  private readonly marginMs: number;
  readonly signal: AbortSignal | undefined;

  constructor(
    private readonly deadline: Deadline,
    safetyMarginMs: number,
  ) {
    this.marginMs = Math.min(safetyMarginMs, Math.max(0, deadline.remainingMs()) * SAFETY_MARGIN_MAX_SHARE);
    this.signal = deadline.signal;
  }

  availableMs(): number {
    return this.deadline.remainingMs() - this.marginMs;
  }

  get cutOff(): boolean {
    return this.signal?.aborted === true;
  }

  /** Why the signal aborted, for the report. */
  cutOffMessage(): string {
    const reason: unknown = this.signal?.reason;
    return reason instanceof Error ? reason.message : String(reason);
  }
}

class RequestTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${Math.round(ms)} ms`);
    this.name = "RequestTimeoutError";
  }
}

const SEVERITY: Record<PushReport["outcome"], number> = { ok: 0, rejected: 1, failed: 2 };

/**
 * The report of a push that threw instead of reporting (a pusher's bug, or a request Node refused
 * to send): nothing is known to be stored, so its entries failed.
 */
export function thrownPushReport(err: unknown): PushReport {
  return { outcome: "failed", pushes: 0, retries: 0, splits: 0, rejectedEntries: 0, message: err instanceof Error ? err.message : String(err) };
}

/** Sums the counters of two reports; the worse outcome (failed > rejected > ok) and its reason win. */
export function combineReports(a: PushReport, b: PushReport): PushReport {
  const worse = SEVERITY[b.outcome] > SEVERITY[a.outcome] ? b : a;
  return {
    outcome: worse.outcome,
    pushes: a.pushes + b.pushes,
    retries: a.retries + b.retries,
    splits: a.splits + b.splits,
    rejectedEntries: a.rejectedEntries + b.rejectedEntries,
    ...(worse.status !== undefined ? { status: worse.status } : {}),
    ...(worse.message !== undefined ? { message: worse.message } : {}),
    ...(worse.fix !== undefined ? { fix: worse.fix } : {}),
    ...(worse.cutOff === true ? { cutOff: true } : {}),
  };
}

/** Milliseconds to wait according to a `Retry-After` header (seconds or an HTTP date). */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its day and month; Date.parse would also take "-1" or "2024".
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Waits `ms`; `signal` aborting ends the wait (rejecting) and clears its timer, so no cut-short backoff keeps a timer running. */
function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return sleepFor(ms, undefined, signal ? { signal } : undefined);
}

export class LokiClient {
  private readonly url: URL;
  /** The URL without credentials, for logs. */
  private readonly target: string;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly log: Log;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly settings: typeof DEFAULTS;

  constructor(options: LokiClientOptions) {
    const url = new URL(options.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new Error(`Loki push URL must be http(s), got ${url.protocol}`);
    }
    const auth = options.auth ?? credentialsFromUrl(url);
    url.username = "";
    url.password = "";
    this.url = url;
    this.target = url.toString();
    this.transport = url.protocol === "https:" ? https : http;
    this.agent =
      url.protocol === "https:"
        ? new https.Agent({ keepAlive: true, rejectUnauthorized: options.skipTlsVerify !== true })
        : new http.Agent({ keepAlive: true });
    this.headers = {
      "Content-Type": "application/x-protobuf",
      "User-Agent": options.userAgent ?? DEFAULT_USER_AGENT,
    };
    if (auth !== undefined) {
      this.headers.Authorization =
        "bearerToken" in auth
          ? `Bearer ${auth.bearerToken}`
          : `Basic ${Buffer.from(`${auth.username}:${auth.password}`, "utf8").toString("base64")}`;
    }
    if (options.tenantId !== undefined && options.tenantId !== "") this.headers["X-Scope-OrgID"] = options.tenantId;
    this.log = options.log;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.settings = {
      minBackoffMs: options.minBackoffMs ?? DEFAULTS.minBackoffMs,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
      maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
      safetyMarginMs: options.safetyMarginMs ?? DEFAULTS.safetyMarginMs,
      minRequestMs: options.minRequestMs ?? DEFAULTS.minRequestMs,
      maxRequestMs: options.maxRequestMs ?? DEFAULTS.maxRequestMs,
    };
  }

  /**
   * Pushes the entries of `request`, splitting on 413 and retrying transient failures until
   * shortly before `deadline`. Never throws for Loki's or the network's failures: the report
   * says what happened. `tenant`, when given, is sent as X-Scope-OrgID instead of `tenantId`.
   */
  async push(request: EncodedPush, deadline: Deadline, tenant?: string): Promise<PushReport> {
    if (request.entries === 0) return { outcome: "ok", pushes: 0, retries: 0, splits: 0, rejectedEntries: 0 };
    // A tenant set by the tenant stage replaces TENANT_ID for this push (Promtail's __tenant_id__).
    const target: Target = tenant === undefined
      ? { headers: this.headers, log: { url: this.target } }
      : { headers: { ...this.headers, "X-Scope-OrgID": tenant }, log: { url: this.target, tenant } };
    return this.pushPart(request, new TimeBudget(deadline, this.settings.safetyMarginMs), target);
  }

  /** Closes idle keep-alive connections; the client must not be used afterwards. */
  close(): void {
    this.agent.destroy();
  }

  private async pushPart(request: EncodedPush, budget: TimeBudget, target: Target): Promise<PushReport> {
    const { body, entries } = request;
    const delivery = await this.deliver(body, entries, budget, target);
    const { status, message, fix, cutOff } = delivery;
    const counters = { pushes: delivery.pushes, retries: delivery.retries, splits: 0 };
    const cause = {
      ...(status !== undefined ? { status } : {}),
      ...(message !== undefined ? { message } : {}),
      ...(fix !== undefined ? { fix } : {}),
      ...(cutOff === true ? { cutOff } : {}),
    };
    switch (delivery.verdict) {
      case "ok":
        return { outcome: "ok", ...counters, rejectedEntries: 0, ...(status !== undefined ? { status } : {}) };
      case "failed":
        return { outcome: "failed", ...counters, rejectedEntries: 0, ...cause };
      case "rejected":
        this.log.warn("Loki rejected entries of a push", { ...target.log, entries, status, reason: message });
        return { outcome: "rejected", ...counters, rejectedEntries: entries, ...cause };
      case "too-large":
        break;
    }
    if (entries === 1) {
      this.log.warn("Loki refused a single entry as too large; dropping it", {
        ...target.log,
        bytes: body.length,
        labels: decodePushBody(body).find((stream) => stream.entries.length > 0)?.labels,
        status,
        reason: message,
      });
      return { outcome: "rejected", ...counters, rejectedEntries: 1, ...cause };
    }
    this.log.info("Loki answered 413; splitting the push in two", { ...target.log, entries, bytes: body.length });
    let report: PushReport = { outcome: "ok", ...counters, splits: 1, rejectedEntries: 0 };
    for (const half of splitBody(body)) {
      report = combineReports(report, await this.pushPart(half, budget, target));
      // The caller fails every record of this batch anyway; spending the time left on the
      // other half would only delay that.
      if (report.outcome === "failed") break;
    }
    return report;
  }

  /** Sends one body, retrying transient failures while time and the retry limit allow. */
  private async deliver(body: Uint8Array, entries: number, budget: TimeBudget, target: Target): Promise<Delivery> {
    const { minRequestMs, maxRequestMs, maxRetries } = this.settings;
    const giveUp = (why: string, pushes: number, retries: number, status?: number, message?: string): Delivery => {
      this.log.error(`giving up on a Loki push: ${why}`, { ...target.log, entries, retries, status, reason: message });
      return { verdict: "failed", pushes, retries, ...(status !== undefined ? { status } : {}), message: message ?? why };
    };
    let pushes = 0;
    let retries = 0;
    /** The cutoff ended the push: the caller knows its time is up and reports it once. */
    const cutOff = (): Delivery => {
      this.log.debug("Loki push ended at the invocation's cutoff", { entries, retries });
      return { verdict: "failed", pushes, retries, message: budget.cutOffMessage(), cutOff: true };
    };
    /** Set once a backoff was cut short to fit one more request before the deadline. */
    let lastAttempt = false;
    for (;;) {
      if (budget.cutOff) return cutOff();
      const available = budget.availableMs();
      // The last attempt was timed to start with exactly minRequestMs left; a timer that wakes a
      // little late must not turn it into a give-up.
      const enough = lastAttempt ? available > 0 : available >= minRequestMs;
      if (!enough) return giveUp("no time left before the Lambda deadline", pushes, retries);
      pushes++;
      const exchange = await this.exchange(body, Math.min(available, maxRequestMs), target.headers, budget.signal);
      if (exchange.kind === "cut-off") return cutOff();
      const status = exchange.kind === "response" ? exchange.status : undefined;
      const message = exchange.message;
      if (exchange.kind === "response") {
        const rule = answerRule(exchange.status);
        switch (rule.action) {
          case "stored":
            this.log.debug("pushed to Loki", { entries, bytes: body.length, status, retries });
            return { verdict: "ok", pushes, retries, status };
          case "split":
            return { verdict: "too-large", pushes, retries, status, message };
          case "reject":
            return { verdict: "rejected", pushes, retries, status, message };
          case "refuse": {
            // Nothing stored; a resend would get the same answer. Logged once by the caller.
            const where = rule.aboutAddress ? ` (WRITE_ADDRESS: ${this.target}${exchange.location ? `; redirected to ${exchange.location}` : ""})` : "";
            this.log.debug("Loki refused a push", { entries, status, reason: message });
            return { verdict: "failed", pushes, retries, status, message, fix: rule.fix + where };
          }
          case "retry":
            break;
        }
      }
      if (retries >= maxRetries) return giveUp(`still failing after ${retries} retries`, pushes, retries, status, message);
      if (lastAttempt) return giveUp("the last attempt that fitted before the Lambda deadline failed too", pushes, retries, status, message);
      const { ms: backoffMs, retryAfter } = this.retryDelay(exchange, retries);
      let delayMs = backoffMs;
      const room = budget.availableMs() - minRequestMs;
      if (delayMs > room) {
        // Never start a wait after which no request could be made, nor come back before a
        // Retry-After (Loki would only refuse again): the caller fails the records and the
        // event source retries. A random backoff is only a spreading of load: when it is
        // longer than the time left, a last request after a shorter wait is worth more.
        if (retryAfter || room < 0) {
          return giveUp(`no time left for another attempt in ${Math.round(delayMs)} ms before the Lambda deadline`, pushes, retries, status, message);
        }
        delayMs = room;
        lastAttempt = true;
      }
      this.log.warn("Loki push failed; retrying", { ...target.log, entries, retry: retries + 1, delayMs: Math.round(delayMs), status, reason: message });
      retries++;
      // The cutoff ends the wait; the loop's first check then ends the push.
      if (delayMs > 0) await (budget.signal ? untilAborted(this.sleep(delayMs, budget.signal), budget.signal).catch(() => undefined) : this.sleep(delayMs));
    }
  }

  /**
   * How long to wait before resending after `exchange`, the `retry`-th retry (0-based):
   * Retry-After when Loki sent one with 429/503, else full jitter over an exponential ceiling.
   */
  private retryDelay(exchange: Exchange, retry: number): { ms: number; retryAfter: boolean } {
    if (exchange.kind === "response" && (exchange.status === 429 || exchange.status === 503)) {
      const retryAfterMs = parseRetryAfter(exchange.retryAfter);
      if (retryAfterMs !== undefined) return { ms: retryAfterMs, retryAfter: true };
    }
    // A keep-alive connection that Loki or a load balancer closed while the Lambda was frozen
    // fails on first use; a fresh connection right away is the fix, not a backoff.
    if (exchange.kind === "error" && exchange.reusedSocket && retry === 0) return { ms: 0, retryAfter: false };
    const ceiling = Math.min(this.settings.maxBackoffMs, this.settings.minBackoffMs * 2 ** retry);
    return { ms: this.random() * ceiling, retryAfter: false };
  }

  /**
   * One HTTP request; resolves (never rejects) with the answer or the error. `signal` aborting
   * resolves it at once ("cut-off") and destroys the request; its socket closes in the background.
   */
  private exchange(body: Uint8Array, timeoutMs: number, headers: Readonly<Record<string, string>>, signal: AbortSignal | undefined): Promise<Exchange> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (exchange: Exchange): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onCutOff);
        resolve(exchange);
      };
      const request = this.transport.request(this.url, {
        method: "POST",
        agent: this.agent,
        headers: { ...headers, "Content-Length": String(body.length) },
      });
      const onCutOff = (): void => {
        settle({ kind: "cut-off" });
        request.destroy();
      };
      signal?.addEventListener("abort", onCutOff, { once: true });
      const timer = setTimeout(() => request.destroy(new RequestTimeoutError(timeoutMs)), timeoutMs);
      request.on("error", (error) => settle({ kind: "error", message: error.message, reusedSocket: request.reusedSocket }));
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on("data", (chunk: Buffer) => {
          // Read the whole answer so the connection can be reused, but keep only its start.
          if (kept <= MAX_MESSAGE_BYTES) chunks.push(chunk);
          kept += chunk.length;
        });
        response.on("end", () => {
          const retryAfter = response.headers["retry-after"];
          const text = Buffer.concat(chunks).subarray(0, MAX_MESSAGE_BYTES).toString("utf8").trim();
          settle({
            kind: "response",
            status: response.statusCode ?? 0,
            message: kept > MAX_MESSAGE_BYTES ? `${text} [truncated; ${kept} bytes in all]` : text,
            retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
            location: response.headers.location,
          });
        });
        response.on("error", (error) => settle({ kind: "error", message: error.message, reusedSocket: false }));
        response.on("close", () => {
          if (!response.complete) settle({ kind: "error", message: "connection closed before the answer was complete", reusedSocket: false });
        });
      });
      request.end(body);
    });
  }
}

/**
 * The two halves of a push body answered 413, each encoded on its own: the decoded streams live
 * only during this call, so a half waiting for its turn holds its body, not its entries.
 */
function splitBody(body: Uint8Array): [EncodedPush, EncodedPush] {
  const [first, second] = splitInHalves(decodePushBody(body));
  return [encodePush(first), encodePush(second)];
}

function credentialsFromUrl(url: URL): LokiAuth | undefined {
  if (url.username === "" && url.password === "") return undefined;
  return { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}
