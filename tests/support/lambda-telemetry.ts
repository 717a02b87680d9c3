/**
 * The platform side of the Lambda Telemetry API, for the local Lambda emulator
 * (tests/support/lambda-emulator.ts): validating a subscription (`PUT /2022-07-01/telemetry`)
 * and delivering telemetry to the subscriber's HTTP listener in batches.
 *
 * Sources, in order of authority:
 * - AWS's reference pages "Lambda Telemetry API", "Lambda Telemetry API reference" and
 *   "Telemetry API Event schema reference" (docs.aws.amazon.com/lambda/latest/dg/telemetry-api*.html);
 * - AWS's own platform code published in aws/aws-lambda-runtime-interface-emulator
 *   (internal/lambda-managed-instances/aws-lambda-rie/internal/telemetry: the subscription JSON
 *   schema, the subscriber's batching loop and the HTTP client).
 * Where both are silent the choice is marked ASSUMPTION in a comment.
 */
import * as http from "node:http";
import { createHash } from "node:crypto";

export const TELEMETRY_SCHEMA_VERSIONS = ["2022-07-01", "2022-12-13", "2025-01-29"] as const;
export const TELEMETRY_TYPES = ["platform", "function", "extension"] as const;
export type TelemetryCategory = (typeof TELEMETRY_TYPES)[number];

/** Buffering limits and defaults as the reference's table and AWS's schema give them. */
export const BUFFERING_LIMITS = {
  maxItems: { min: 1000, max: 10000, default: 10000 },
  maxBytes: { min: 262144, max: 1048576, default: 262144 },
  timeoutMs: { min: 25, max: 30000, default: 1000 },
} as const;

/** Port 9001 is reserved by Lambda for its own APIs ("Lambda reserves port 9001"). */
export const LAMBDA_RESERVED_PORT = 9001;

export interface Buffering {
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

export interface Subscription {
  schemaVersion: string;
  types: TelemetryCategory[];
  buffering: Buffering;
  /** The URI as the extension gave it. */
  uri: string;
  /** Where the emulator actually sends: http://127.0.0.1:<port><path>. */
  deliveryUrl: string;
}

/** One Telemetry API event: `{time, type, record}`. */
export interface TelemetryEvent {
  time: string;
  type: string;
  record: unknown;
}

export type SubscriptionCheck = { ok: true; subscription: Subscription } | { ok: false; errorMessage: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Hosts a destination may name. AWS's platform code accepts `sandbox.localdomain` and `sandbox` and
 * sends to 127.0.0.1 ("Lambda sends telemetry only to destinations that are inside the execution
 * environment"). ASSUMPTION for local emulation: `127.0.0.1` and `localhost` are accepted as well,
 * because `sandbox.localdomain` does not resolve outside Lambda and an extension then binds its
 * listener to 127.0.0.1 and names that host.
 */
const SANDBOX_HOSTS = new Set(["sandbox.localdomain", "sandbox", "127.0.0.1", "localhost"]);

function checkBuffering(value: unknown, problems: string[]): Buffering {
  const buffering: Buffering = {
    maxItems: BUFFERING_LIMITS.maxItems.default,
    maxBytes: BUFFERING_LIMITS.maxBytes.default,
    timeoutMs: BUFFERING_LIMITS.timeoutMs.default,
  };
  if (value === undefined) return buffering;
  if (!isObject(value)) {
    problems.push("buffering should be an object");
    return buffering;
  }
  for (const key of ["maxItems", "maxBytes", "timeoutMs"] as const) {
    const given = value[key];
    if (given === undefined) continue;
    const { min, max } = BUFFERING_LIMITS[key];
    if (typeof given !== "number" || !Number.isInteger(given)) {
      problems.push(`buffering.${key} should be an integer`);
    } else if (given < min || given > max) {
      problems.push(`buffering.${key} should be between ${min} and ${max}, got ${given}`);
    } else {
      buffering[key] = given;
    }
  }
  return buffering;
}

function checkDestination(value: unknown, runtimeApiPort: number, problems: string[]): { uri: string; deliveryUrl: string } | undefined {
  if (!isObject(value)) {
    problems.push(value === undefined ? "destination is required" : "destination should be an object");
    return undefined;
  }
  if (value.protocol === "TCP") {
    // The reference accepts TCP (NDJSON to a port). The emulator delivers over HTTP only, which is
    // what the reference recommends and what this project's extension uses; say so rather than
    // pretending to deliver.
    problems.push("destination.protocol TCP is valid in Lambda but not supported by this emulator; use HTTP");
    return undefined;
  }
  if (value.protocol !== "HTTP") {
    problems.push(`destination.protocol should be one of HTTP, TCP, got ${JSON.stringify(value.protocol)}`);
    return undefined;
  }
  if (typeof value.URI !== "string" || value.URI.length === 0) {
    problems.push("destination.URI is required");
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value.URI);
  } catch {
    problems.push(`destination.URI is not a URI: ${value.URI}`);
    return undefined;
  }
  // "Lambda supports only HTTP, not HTTPS."
  if (url.protocol !== "http:") problems.push("destination.URI scheme should be http");
  if (!SANDBOX_HOSTS.has(url.hostname)) problems.push("destination.URI host must be sandbox.localdomain");
  if (url.port === "") {
    // The reference's example of a failed subscription: "URI port is not provided".
    problems.push("URI port is not provided");
  } else {
    const port = Number(url.port);
    if (port === LAMBDA_RESERVED_PORT || port === runtimeApiPort) {
      problems.push(`URI port ${port} is reserved by Lambda (the Runtime API)`);
    }
  }
  return { uri: value.URI, deliveryUrl: `http://127.0.0.1:${url.port}${url.pathname}${url.search}` };
}

/**
 * Checks a subscription request body as Lambda does. Failures are answered
 * `400 {"errorType":"ValidationError","errorMessage":...}`; the reference shows several problems
 * joined by "; " ("URI port is not provided; types should not be empty"), so all are reported.
 * Unknown properties are ignored (AWS's schema does not forbid them, and AWS's Go sample sends
 * `destination.method` and `destination.encoding`).
 */
export function checkSubscription(body: unknown, runtimeApiPort: number): SubscriptionCheck {
  const problems: string[] = [];
  if (!isObject(body)) return { ok: false, errorMessage: "request body should be a JSON object" };

  const schemaVersion = body.schemaVersion;
  if (schemaVersion === undefined) problems.push("schemaVersion is required");
  else if (!(TELEMETRY_SCHEMA_VERSIONS as readonly unknown[]).includes(schemaVersion)) {
    problems.push(`schemaVersion should be one of ${TELEMETRY_SCHEMA_VERSIONS.join(", ")}, got ${JSON.stringify(schemaVersion)}`);
  }

  const types: TelemetryCategory[] = [];
  if (body.types === undefined) problems.push("types is required");
  else if (!Array.isArray(body.types)) problems.push("types should be an array");
  else if (body.types.length === 0) problems.push("types should not be empty");
  else {
    for (const type of body.types) {
      if ((TELEMETRY_TYPES as readonly unknown[]).includes(type)) types.push(type as TelemetryCategory);
      else problems.push(`types should contain only ${TELEMETRY_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
    }
  }

  const destination = checkDestination(body.destination, runtimeApiPort, problems);
  const buffering = checkBuffering(body.buffering, problems);

  if (problems.length > 0 || destination === undefined) return { ok: false, errorMessage: problems.join("; ") };
  return {
    ok: true,
    subscription: {
      schemaVersion: schemaVersion as string,
      types: [...new Set(types)],
      buffering,
      uri: destination.uri,
      deliveryUrl: destination.deliveryUrl,
    },
  };
}

/** Which subscription category an event type belongs to. */
export function categoryOf(type: string): TelemetryCategory {
  if (type === "function") return "function";
  if (type === "extension") return "extension";
  return "platform";
}

/** One telemetry POST the emulator made and what the listener answered (0: no answer). */
export interface Delivery {
  status: number;
  records: number;
  /** The error when there was no HTTP answer (connection refused, timeout...). */
  error?: string;
}

export interface DeliveryOptions {
  /** First retry delay after a failed POST; doubles per attempt. */
  retryBaseMs?: number;
  /** Longest retry delay. */
  retryMaxMs?: number;
  /** A POST without an answer in this time counts as failed. */
  postTimeoutMs?: number;
  /**
   * Telemetry waiting to be sent (bytes of its events' JSON) beyond this is dropped, oldest batch
   * first, and reported by platform.logsDropped.
   */
  maxQueuedBytes?: number;
}

interface Batch {
  events: TelemetryEvent[];
  bytes: number;
  attempts: number;
}

/**
 * Delivers one subscriber's telemetry: events are appended to the current batch, which is handed
 * to the sender when it holds `maxItems` events, reaches `maxBytes` (serialised JSON of its events),
 * or `timeoutMs` after its first event — the rules of AWS's subscriber loop. One POST is in flight
 * at a time, in order.
 *
 * While the execution environment is frozen (`setOpen(false)`) nothing is sent: batches wait and are
 * sent after the thaw.
 *
 * Retries: the reference says "Lambda retries the attempt to send telemetry (with backoff) if there
 * is no listener, or if the POST request results in an error". AWS's client treats a status >= 400
 * or a transport error as a failed POST. ASSUMPTION (schedule not documented): the failed batch is
 * retried first, after retryBaseMs doubling up to retryMaxMs, for as long as the environment lives;
 * later batches wait behind it; beyond maxQueuedBytes (16 MiB) of waiting telemetry the oldest
 * waiting batch is dropped and a platform.logsDropped event says how many records and bytes were
 * lost, with the reason text the schema reference shows.
 */
export class TelemetryDelivery {
  private current: Batch | undefined;
  private currentTimer: NodeJS.Timeout | undefined;
  private readonly ready: Batch[] = [];
  private inFlight: { batch: Batch; request: http.ClientRequest; settled: Promise<void> } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private open = true;
  private closed = false;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly postTimeoutMs: number;
  private readonly maxQueuedBytes: number;
  readonly deliveries: Delivery[] = [];
  /** Events in the batches the listener accepted, in order. */
  readonly delivered: TelemetryEvent[] = [];
  droppedRecords = 0;

  constructor(
    readonly subscription: Subscription,
    options: DeliveryOptions,
    /** Called when batches are dropped; the emulator turns it into a platform.logsDropped event. */
    private readonly onDropped: (records: number, bytes: number) => void,
  ) {
    this.retryBaseMs = options.retryBaseMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 1000;
    this.postTimeoutMs = options.postTimeoutMs ?? 5000;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 16 * 1024 * 1024;
  }

  /** Adds an event if the subscription asked for its category. */
  add(event: TelemetryEvent): void {
    if (this.closed || !this.subscription.types.includes(categoryOf(event.type))) return;
    if (this.current === undefined) {
      this.current = { events: [], bytes: 0, attempts: 0 };
      this.currentTimer = setTimeout(() => this.flush(), this.subscription.buffering.timeoutMs);
    }
    this.current.events.push(event);
    this.current.bytes += Buffer.byteLength(JSON.stringify(event));
    const { maxItems, maxBytes } = this.subscription.buffering;
    if (this.current.events.length >= maxItems || this.current.bytes >= maxBytes) this.flush();
  }

  /** Hands the current batch to the sender now (buffer timeout, full batch, or a closed input stream). */
  flush(): void {
    if (this.currentTimer) clearTimeout(this.currentTimer);
    this.currentTimer = undefined;
    const batch = this.current;
    this.current = undefined;
    if (batch === undefined || batch.events.length === 0) return;
    this.ready.push(batch);
    // The head of the queue may be a batch being sent or retried; it stays, the oldest of the
    // others goes first.
    let queued = this.ready.reduce((sum, waiting) => sum + waiting.bytes, 0);
    while (queued > this.maxQueuedBytes && this.ready.length > 1) {
      const dropAt = this.inFlight?.batch === this.ready[0] || this.ready[0].attempts > 0 ? 1 : 0;
      const [dropped] = this.ready.splice(dropAt, 1);
      queued -= dropped.bytes;
      this.droppedRecords += dropped.events.length;
      this.onDropped(dropped.events.length, dropped.bytes);
    }
    this.pump();
  }

  /** Opens or closes the gate: closed while the execution environment is frozen. */
  setOpen(open: boolean): void {
    this.open = open;
    if (open) this.pump();
  }

  /** Batches not yet accepted by the listener (including the current one). */
  pendingRecords(): number {
    return (this.current?.events.length ?? 0) + this.ready.reduce((sum, batch) => sum + batch.events.length, 0);
  }

  /**
   * Waits up to `maxMs` for the POST in flight to be answered; if it is not, aborts it (it will be
   * retried after the thaw). Used before freezing the process.
   */
  async settle(maxMs: number): Promise<void> {
    const inFlight = this.inFlight;
    if (!inFlight) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), maxMs);
    });
    const done = await Promise.race([inFlight.settled.then(() => false), timedOut]);
    clearTimeout(timer);
    if (done) inFlight.request.destroy(new Error("aborted: execution environment frozen"));
    await inFlight.settled;
  }

  close(): void {
    this.closed = true;
    if (this.currentTimer) clearTimeout(this.currentTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.inFlight?.request.destroy(new Error("emulator closed"));
  }

  private pump(): void {
    if (this.closed || !this.open || this.inFlight || this.retryTimer || this.ready.length === 0) return;
    const batch = this.ready[0];
    batch.attempts++;
    const body = `[${batch.events.map((event) => JSON.stringify(event)).join(",")}]`;
    let finish!: () => void;
    const settled = new Promise<void>((resolve) => (finish = resolve));
    const request = http.request(this.subscription.deliveryUrl, {
      method: "POST",
      // A fresh connection per POST: a kept-alive socket that the listener closed while the
      // environment was frozen would otherwise turn into a spurious failure after the thaw.
      agent: false,
      headers: {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
        // AWS's client sends a Sequence-Id header: base64 of the SHA-256 of the body.
        "Sequence-Id": createHash("sha256").update(body).digest("base64"),
      },
      timeout: this.postTimeoutMs,
    });
    this.inFlight = { batch, request, settled };
    const complete = (status: number, error?: string) => {
      if (this.inFlight?.request !== request) return;
      this.inFlight = undefined;
      this.deliveries.push(error === undefined ? { status, records: batch.events.length } : { status, records: batch.events.length, error });
      if (status > 0 && status < 400) {
        this.ready.shift();
        this.delivered.push(...batch.events);
      } else if (!this.closed) {
        const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (batch.attempts - 1));
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.pump();
        }, delay);
      }
      finish();
      this.pump();
    };
    request.on("response", (response) => {
      response.resume();
      response.on("end", () => complete(response.statusCode ?? 0));
      response.on("error", (error) => complete(0, error.message));
    });
    request.on("timeout", () => request.destroy(new Error(`no answer within ${this.postTimeoutMs} ms`)));
    request.on("error", (error) => complete(0, error.message));
    request.end(body);
  }
}
