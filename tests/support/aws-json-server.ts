/**
 * A local stand-in for AWS services that speak the AWS JSON 1.1 protocol (Secrets Manager, SSM)
 * on 127.0.0.1: answers each `X-Amz-Target` with a scripted handler, so tests go through the
 * real SDK clients (and the Powertools utilities on top of them).
 */
import { createServer, Server } from "node:http";
import type { AddressInfo } from "node:net";

/** An answer, or "hang": never answer (an endpoint without a route); the request stays open until stop(). */
export type TargetHandler = (body: Record<string, unknown>) => { status: number; body: unknown; errorType?: string } | "hang";

export class AwsJsonServer {
  readonly calls: { target: string; body: Record<string, unknown> }[] = [];
  private server?: Server;

  constructor(private readonly targets: Record<string, TargetHandler>) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const target = String(req.headers["x-amz-target"]);
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
        this.calls.push({ target, body });
        const handler = this.targets[target];
        const answer = handler ? handler(body) : { status: 400, body: { __type: "UnknownOperationException", message: target }, errorType: "UnknownOperationException" };
        if (answer === "hang") return;
        res.writeHead(answer.status, { "content-type": "application/x-amz-json-1.1", ...(answer.errorType ? { "x-amzn-errortype": answer.errorType } : {}) });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
