/**
 * A real S3-compatible server on 127.0.0.1 for tests and the benchmark: s3rver on an ephemeral
 * port, storing in a temporary directory removed on stop. Objects are put through the real
 * `@aws-sdk/client-s3`, and `env()` gives the variables that point the handler's SDK client at
 * it (endpoint, region, s3rver's fixed credentials).
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

/** s3rver accepts only these credentials (it checks request signatures). */
const ACCESS_KEY = "S3RVER";
const SECRET_KEY = "S3RVER";
export const LOCAL_S3_REGION = "us-east-1";

export class LocalS3 {
  private constructor(
    private readonly server: S3rver,
    private readonly directory: string,
    readonly endpoint: string,
    readonly client: S3Client,
  ) {}

  static async start(buckets: readonly string[]): Promise<LocalS3> {
    const directory = await mkdtemp(join(tmpdir(), "s3rver-"));
    const server = new S3rver({
      address: "127.0.0.1",
      port: 0,
      directory,
      silent: true,
      configureBuckets: buckets.map((name) => ({ name })),
    });
    const address = await server.run();
    const endpoint = `http://127.0.0.1:${address.port}`;
    const client = new S3Client({
      region: LOCAL_S3_REGION,
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      // s3rver predates the SDK's default CRC32 trailers on uploads.
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
    return new LocalS3(server, directory, endpoint, client);
  }

  async put(bucket: string, key: string, body: Uint8Array | string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }

  /** Environment for the code under test: the SDK's endpoint variable, a region and credentials. */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_S3: this.endpoint,
      AWS_REGION: LOCAL_S3_REGION,
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    };
  }

  async stop(): Promise<void> {
    this.client.destroy();
    // Keep-alive sockets of SDK clients would otherwise hold close() open.
    this.server.httpServer?.closeAllConnections();
    await this.server.close();
    await rm(this.directory, { recursive: true, force: true });
  }
}
