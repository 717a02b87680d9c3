/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of the local S3 server (s3rver), for tests
 * of what the handler does when S3 misbehaves. Requests are forwarded unchanged (the SigV4
 * signature covers the Host header, which is passed through), and GetObject answers can be:
 *
 *  - `never-answer`: the request is read and never answered (a GetObject that hangs);
 *  - `stall-after`: the headers and the first `bytes` of the body are sent, then nothing more
 *    (a body that stalls half-way);
 *  - slowed to `bytesPerSecond` (a slow S3 connection), so reading an object takes a while.
 *
 * For every object it records how much of the body went out and whether the client closed the
 * connection before the end, so a test can tell that the handler stopped reading.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export type S3Fault =
  | { kind: "never-answer" }
  | { kind: "stall-after"; bytes: number }
  | { kind: "slow"; bytesPerSecond: number };

export interface BodyStats {
  /** Size of the object's body as S3 answered it. */
  bodyBytes: number;
  /** Bytes of the body the proxy wrote to the client. */
  sentBytes: number;
  /** The client closed the connection before the whole body was sent. */
  closedEarly: boolean;
}

/** Chunk and pace of a slowed body. */
const SLOW_TICK_MS = 10;

export class S3FaultProxy {
  /** GetObject bodies per `/<bucket>/<key>` path (decoded), in request order. */
  readonly bodies = new Map<string, BodyStats[]>();
  /** Requests per path (decoded), every method. */
  readonly requests: string[] = [];
  private readonly faults = new Map<string, S3Fault>();
  private server?: http.Server;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly target: string) {}

  /** Starts listening on a free port of 127.0.0.1; resolves to the proxy's endpoint URL. */
  async start(): Promise<string> {
    const server = http.createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return this.endpoint;
  }

  get endpoint(): string {
    if (!this.server) throw new Error("proxy not started");
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Injects `fault` into every GetObject of `bucket`/`key`; undefined removes it. */
  fault(bucket: string, key: string, fault: S3Fault | undefined): this {
    const path = `/${bucket}/${key}`;
    if (fault) this.faults.set(path, fault);
    else this.faults.delete(path);
    return this;
  }

  /** Forgets faults and statistics. */
  reset(): void {
    this.faults.clear();
    this.bodies.clear();
    this.requests.length = 0;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0]);
    this.requests.push(path);
    const fault = req.method === "GET" ? this.faults.get(path) : undefined;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (fault?.kind === "never-answer") return;
      const upstream = http.request(new URL(req.url ?? "/", this.target), { method: req.method, headers: req.headers }, (answer) => {
        this.answer(req, res, path, answer, fault);
      });
      upstream.on("error", () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  }

  /** Sends S3's answer on as it arrives: headers at once, the body as the fault allows. */
  private answer(req: http.IncomingMessage, res: http.ServerResponse, path: string, answer: http.IncomingMessage, fault: S3Fault | undefined): void {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    if (req.method !== "GET" || (answer.statusCode ?? 0) >= 300) {
      answer.pipe(res);
      return;
    }
    const stats: BodyStats = { bodyBytes: Number(answer.headers["content-length"] ?? 0), sentBytes: 0, closedEarly: false };
    this.bodies.set(path, [...(this.bodies.get(path) ?? []), stats]);
    res.on("close", () => {
      if (stats.sentBytes < stats.bodyBytes) stats.closedEarly = true;
      answer.destroy();
    });
    // What S3 sent and the proxy has not passed on yet.
    let held = Buffer.alloc(0);
    let ended = false;
    const limit = fault?.kind === "stall-after" ? fault.bytes : Infinity;
    const pass = (max: number): void => {
      const n = Math.min(held.length, max, limit - stats.sentBytes);
      if (n > 0) {
        res.write(held.subarray(0, n));
        held = held.subarray(n);
        stats.sentBytes += n;
      }
      if (ended && held.length === 0 && stats.sentBytes < limit) res.end();
    };
    answer.on("data", (chunk: Buffer) => {
      held = Buffer.concat([held, chunk]);
      if (fault?.kind !== "slow") pass(Infinity);
    });
    answer.on("end", () => {
      ended = true;
      if (fault?.kind !== "slow") pass(Infinity);
    });
    if (fault?.kind !== "slow") return;
    const step = Math.max(1, Math.round((fault.bytesPerSecond * SLOW_TICK_MS) / 1000));
    const timer = setInterval(() => {
      if (res.destroyed || res.writableEnded) {
        clearInterval(timer);
        this.timers.delete(timer);
        return;
      }
      // Only what the client takes counts as sent: a paused reader pauses the body.
      if (!res.writableNeedDrain) pass(step);
    }, SLOW_TICK_MS);
    this.timers.add(timer);
  }
}
