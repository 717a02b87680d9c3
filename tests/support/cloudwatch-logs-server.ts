/**
 * A local stand-in for the CloudWatch Logs API on 127.0.0.1 that speaks the real AWS JSON 1.1
 * protocol for ListTagsForResource, so tests go through the real @aws-sdk/client-cloudwatch-logs.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export class CloudWatchLogsServer {
  /** Tags per log-group ARN. */
  readonly tags = new Map<string, Record<string, string>>();
  /** Every ListTagsForResource call, by resource ARN, in order. */
  readonly calls: string[] = [];
  /** When set, every call answers this error (e.g. AccessDeniedException, ThrottlingException). */
  failWith?: { status: number; type: string; message: string };
  /** Delay before answering, to make concurrent lookups overlap. */
  delayMs = 0;
  /** Never answer (an endpoint without a route): requests stay open until stop(). */
  hang = false;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = req.headers["x-amz-target"];
    const reply = (status: number, body: unknown, type?: string) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1", ...(type ? { "x-amzn-errortype": type } : {}) });
      res.end(JSON.stringify(body));
    };
    if (target !== "Logs_20140328.ListTagsForResource") {
      reply(400, { __type: "UnknownOperationException", message: `unsupported target ${String(target)}` }, "UnknownOperationException");
      return;
    }
    const { resourceArn } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { resourceArn: string };
    this.calls.push(resourceArn);
    if (this.hang) return;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith) {
      reply(this.failWith.status, { __type: this.failWith.type, message: this.failWith.message }, this.failWith.type);
      return;
    }
    const tags = this.tags.get(resourceArn);
    if (!tags) {
      reply(400, { __type: "ResourceNotFoundException", message: "The specified log group does not exist." }, "ResourceNotFoundException");
      return;
    }
    reply(200, { tags });
  }
}
