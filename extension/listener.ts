/**
 * The HTTP listener Lambda's Telemetry API POSTs batches of events to.
 *
 * It binds to `sandbox.localdomain` when that name resolves (inside Lambda) and to 127.0.0.1
 * otherwise (local emulation), on a free port that is not Lambda's 9001, and the subscription
 * names the host it bound. Every POST is answered as soon as its body is read and converted:
 * entries only go into memory here, pushing to Loki happens elsewhere, so a slow Loki never
 * makes Lambda's delivery back up (Lambda would drop telemetry: platform.logsDropped).
 *
 * A body that is not a JSON array is answered 400 and counted: retrying it cannot help. A POST
 * Lambda resends (same `Sequence-Id` header, after an answer it did not get) is answered 200 and
 * not read twice.
 */
import { lookup } from "node:dns/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export const SANDBOX_HOST = "sandbox.localdomain";
/** Lambda's own Runtime API port; the Telemetry API refuses it as a destination. */
const RESERVED_PORT = 9001;
/** Lambda sends at most 1 MiB of events per POST (buffering.maxBytes); the JSON around them adds a little. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
const REMEMBERED_SEQUENCE_IDS = 64;

export interface ListenerCounters {
  posts: number;
  malformedPosts: number;
  duplicatePosts: number;
  events: number;
}

export interface TelemetryListener {
  /** The URI to subscribe with, e.g. http://sandbox.localdomain:41234 */
  readonly uri: string;
  readonly counters: ListenerCounters;
  /** Time of the last POST received (ms), for waiting until Lambda has delivered everything. */
  readonly lastPostAt: number;
  close(): Promise<void>;
}

/** The host to bind: sandbox.localdomain when it resolves within `timeoutMs`, else 127.0.0.1. */
export async function listenerHost(timeoutMs = 500): Promise<{ host: string; address: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const resolved = await Promise.race([
      lookup(SANDBOX_HOST, { family: 4 }),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs))),
    ]);
    if (resolved) return { host: SANDBOX_HOST, address: resolved.address };
  } catch {
    // does not resolve: local emulation
  } finally {
    clearTimeout(timer);
  }
  return { host: "127.0.0.1", address: "127.0.0.1" };
}

export interface ListenerOptions {
  /** The POSTed array as parsed: its elements are whatever the body held (records.ts checks each). */
  onEvents(events: readonly unknown[]): void;
  /** Called for a POST answered 400, with the reason (logged by the caller). */
  onMalformed(reason: string): void;
  host?: { host: string; address: string };
}

export async function startListener(options: ListenerOptions): Promise<TelemetryListener> {
  const { host, address } = options.host ?? (await listenerHost());
  const counters: ListenerCounters = { posts: 0, malformedPosts: 0, duplicatePosts: 0, events: 0 };
  const seen: string[] = [];
  let lastPostAt = 0;

  const server = http.createServer((request, response) => {
    const answer = (status: number, text: string) => {
      response.writeHead(status, { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(text) });
      response.end(text);
    };
    if (request.method !== "POST") {
      request.resume();
      return answer(405, "only POST");
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on("end", () => {
      lastPostAt = Date.now();
      counters.posts++;
      if (tooLarge) {
        counters.malformedPosts++;
        options.onMalformed(`body larger than ${MAX_BODY_BYTES} bytes`);
        return answer(413, "body too large");
      }
      const sequenceId = request.headers["sequence-id"];
      if (typeof sequenceId === "string" && sequenceId !== "") {
        if (seen.includes(sequenceId)) {
          counters.duplicatePosts++;
          return answer(200, "OK");
        }
      }
      let events: unknown;
      try {
        events = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch (err) {
        counters.malformedPosts++;
        options.onMalformed(`body is not JSON: ${(err as Error).message}`);
        return answer(400, "body is not JSON");
      }
      if (!Array.isArray(events)) {
        counters.malformedPosts++;
        options.onMalformed("body is not a JSON array of events");
        return answer(400, "body is not a JSON array");
      }
      if (typeof sequenceId === "string" && sequenceId !== "") {
        seen.push(sequenceId);
        if (seen.length > REMEMBERED_SEQUENCE_IDS) seen.shift();
      }
      counters.events += events.length;
      options.onEvents(events);
      answer(200, "OK");
    });
    request.on("error", () => response.destroy());
  });
  // Lambda holds telemetry connections open across freezes: no idle timeouts on our side.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.headersTimeout = 0;

  const listen = () =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, address, () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  let port = await listen();
  if (port === RESERVED_PORT) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    port = await listen();
  }
  return {
    uri: `http://${host}:${port}`,
    counters,
    get lastPostAt() {
      return lastPostAt;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
