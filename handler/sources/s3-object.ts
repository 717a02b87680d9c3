/**
 * GetObject through `@aws-sdk/client-s3`: one client per region (and endpoint), created on first
 * use and kept for the life of the container. The SDK is loaded lazily so CloudWatch- and
 * Kinesis-only functions never pay its cold start.
 *
 * Endpoint: the SDK's own AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL variables, read here so that an
 * S3-compatible store (MinIO, s3rver in the tests) also gets path-style addressing, which those
 * stores need and virtual-hosted names on 127.0.0.1 cannot give.
 */
import type { S3Client } from "@aws-sdk/client-s3";

export interface ObjectLocation {
  bucket: string;
  /** The real key, already URL-decoded. */
  key: string;
  /** Region of the bucket (from the notification); the function's region when absent. */
  region?: string;
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

/** Opens an object for reading. Injected in tests; the default is `openS3Object`. */
export type ObjectOpener = (location: ObjectLocation) => Promise<OpenedObject>;

type S3Sdk = typeof import("@aws-sdk/client-s3");

let sdk: Promise<S3Sdk> | undefined;
const clients = new Map<string, S3Client>();

export async function openS3Object(location: ObjectLocation): Promise<OpenedObject> {
  const { bucket, key } = location;
  const region = location.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1";
  let output;
  try {
    const { GetObjectCommand } = await loadSdk();
    const client = await clientFor(region);
    output = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    const e = err as { name?: string; message?: string };
    throw new S3ReadError(`GetObject s3://${bucket}/${key} (region ${region}) failed: ${e.name ?? "Error"}: ${e.message ?? String(err)}`, e.name, { cause: err });
  }
  if (!output.Body) throw new Error(`GetObject s3://${bucket}/${key} returned no body`);
  return { body: output.Body as AsyncIterable<Uint8Array>, lastModified: output.LastModified };
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
    client = new S3Client(endpoint ? { region, endpoint, forcePathStyle: true } : { region });
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
