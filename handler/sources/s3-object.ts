/**
 * GetObject through `@aws-sdk/client-s3`: one client per region (and endpoint), created on first
 * use and kept for the life of the container. The SDK is loaded lazily so CloudWatch- and
 * Kinesis-only functions never pay its cold start.
 *
 * Endpoint: the SDK's own AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL variables, read here so that an
 * S3-compatible store (MinIO, s3rver in the tests) also gets path-style addressing, which those
 * stores need and virtual-hosted names on 127.0.0.1 cannot give.
 *
 * Bounded by the invocation (aws-http.ts, deadline.ts): connection and first byte per attempt,
 * the answer's headers within a share of the time left, and the body may not go idle (no bytes
 * while the reader waits for them) for longer than S3_IDLE_CAP_MS or that share. A stalled
 * object fails its record alone, with an error naming it; the cutoff aborts any read.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { boundedRequestHandler, sendWithin } from "../aws-http";
import { InvocationDeadline, WaitLimit, WaitTimeoutError } from "../deadline";

export interface ObjectLocation {
  bucket: string;
  /** The real key, already URL-decoded. */
  key: string;
  /** Region of the bucket (from the notification); the function's region when absent. */
  region?: string;
  /** The object version to read (versioned buckets); the current one when absent. */
  versionId?: string;
}

export interface OpenedObject {
  /** The object's bytes as they arrive; destroying the iterator early releases the connection. */
  body: AsyncIterable<Uint8Array>;
  lastModified?: Date;
}

/** A failed GetObject; `code` is the S3 error name (`NoSuchKey`, `AccessDenied`, …) when S3 answered. */
export class S3ReadError extends Error {
  constructor(message: string, readonly code: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "S3ReadError";
  }
}

/** Opens an object for reading, within the invocation's deadline. Injected in tests; the default is `openS3Object`. */
export type ObjectOpener = (location: ObjectLocation, deadline: InvocationDeadline) => Promise<OpenedObject>;

/** GetObject's answer (headers), retries included, at most (and at most a share of the time left). */
export const S3_ANSWER_CAP_MS = 6000;
/**
 * Longest pause in an object's body while the reader waits for bytes. Time the reader spends
 * elsewhere (waiting for Loki) does not count: that is why the SDK's socket timeout, which
 * counts any silence on the socket, is not used for bodies.
 */
export const S3_IDLE_CAP_MS = 5000;

type S3Sdk = typeof import("@aws-sdk/client-s3");

let sdk: Promise<S3Sdk> | undefined;
const clients = new Map<string, S3Client>();

export async function openS3Object(location: ObjectLocation, deadline: InvocationDeadline): Promise<OpenedObject> {
  const { bucket, key } = location;
  const region = location.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1";
  const { versionId } = location;
  const what = `GetObject s3://${bucket}/${key}${versionId === undefined ? "" : ` (version ${versionId})`}`;
  let output;
  const { GetObjectCommand } = await loadSdk();
  const client = await clientFor(region);
  // One limit for the request and its body: aborting it closes the connection.
  const limit = deadline.limit(what);
  try {
    output = await sendWithin(limit, deadline.waitMs(S3_ANSWER_CAP_MS), (options) => client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId === undefined ? {} : { VersionId: versionId }) }), options));
  } catch (err) {
    limit.clear();
    throw getObjectError(what, region, err);
  }
  if (!output.Body) {
    limit.clear();
    throw new Error(`${what} returned no body`);
  }
  const stream = output.Body as AsyncIterable<Uint8Array> & { destroy?: () => void };
  const body = new BoundedBody(stream[Symbol.asyncIterator](), limit, () => deadline.waitMs(S3_IDLE_CAP_MS), what, () => stream.destroy?.());
  return { body, lastModified: output.LastModified };
}

/**
 * A failed GetObject as an S3ReadError naming the object. AccessDenied gets the other reading S3
 * gives it: without s3:ListBucket on the bucket (the role this program deploys may
 * s3:GetObject and s3:GetObjectVersion), S3 answers AccessDenied, not NoSuchKey, for an object that does not exist, e.g.
 * one deleted (by a lifecycle rule) since the event announced it.
 */
export function getObjectError(what: string, region: string, err: unknown): S3ReadError {
  const e = err as { name?: string; message?: string };
  const hint = e.name === "AccessDenied"
    ? " (the role may not read it, or, without s3:ListBucket on the bucket, the object does not exist: deleted since the event, or the key is not the object's)"
    : "";
  return new S3ReadError(`${what} (region ${region}) failed: ${e.name ?? "Error"}: ${e.message ?? String(err)}${hint}`, e.name, { cause: err });
}

/**
 * An object's body that may not stall: every read must bring bytes within the idle bound, and
 * the limit's abort (idle bound, cutoff, or the reader leaving early) ends a pending read at
 * once, whether or not the stream under it notices.
 */
export class BoundedBody implements AsyncIterableIterator<Uint8Array> {
  private bytes = 0;

  constructor(
    private readonly inner: AsyncIterator<Uint8Array>,
    private readonly limit: WaitLimit,
    private readonly idleMs: () => number,
    private readonly what: string,
    /** Destroys the stream under `inner` (a Node Readable in Lambda). */
    private readonly destroy: () => void = () => undefined,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    const ms = this.idleMs();
    this.limit.arm(ms);
    // One abort promise per read, let go with it: a single one raced against every read would
    // hold a reaction per read, and through it every chunk read, until the body is dropped
    // (the whole compressed object, for an object read to its end).
    const signal = this.limit.signal;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) return reject(signal.reason);
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const next = await Promise.race([this.inner.next(), aborted]);
      if (next.done) this.limit.clear();
      else this.bytes += next.value.length;
      return next;
    } catch (err) {
      this.limit.abort(err);
      this.limit.clear();
      const reason = this.limit.signal.reason as Error;
      throw new S3ReadError(reason instanceof WaitTimeoutError
        ? `${this.what}: the body stalled after ${this.bytes} bytes (no bytes for ${Math.round(ms)} ms)`
        : `${this.what}: reading the body failed after ${this.bytes} bytes: ${reason.message}`, reason.name, { cause: reason });
    } finally {
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
      this.limit.disarm();
    }
  }

  /**
   * The reader left early: close the connection now, even if a read is pending. The stream is
   * destroyed here and by the abort (the SDK's request); its iterator's teardown is not
   * awaited, because it waits for a read still pending (read-ahead of the gunzip pipe), which
   * ends only once the destroyed socket closes, a turn of the event loop or more later: after
   * the cutoff, time the handler needs for its answer.
   */
  async return(): Promise<IteratorResult<Uint8Array>> {
    this.limit.abort(new Error("the reader stopped before the end of the object"));
    this.limit.clear();
    this.destroy();
    // Any error is the abort's, seen by the stream.
    this.inner.return?.().catch(() => undefined);
    return { done: true, value: undefined };
  }
}

function loadSdk(): Promise<S3Sdk> {
  sdk ??= import("@aws-sdk/client-s3").catch((err: unknown) => {
    sdk = undefined;
    throw err;
  });
  return sdk;
}

async function clientFor(region: string): Promise<S3Client> {
  const endpoint = endpointFromEnv();
  // The endpoint is part of the cache key so tests that restart a local server on a new port
  // (or a replay pointed elsewhere) never reuse a stale client.
  const cacheKey = `${region}\n${endpoint ?? ""}`;
  let client = clients.get(cacheKey);
  if (!client) {
    const { S3Client } = await loadSdk();
    const requestHandler = boundedRequestHandler();
    client = new S3Client(endpoint ? { region, endpoint, forcePathStyle: true, requestHandler } : { region, requestHandler });
    clients.set(cacheKey, client);
  }
  return client;
}

function endpointFromEnv(): string | undefined {
  const value = (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || "").trim();
  return value === "" ? undefined : value;
}

/** Closes and forgets the cached clients (tests, replay). */
export function resetS3Clients(): void {
  for (const client of clients.values()) client.destroy();
  clients.clear();
}
