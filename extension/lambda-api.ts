/**
 * The Lambda Extensions API (2020-01-01) and Telemetry API (2022-07-01) as an external extension
 * calls them, at `http://${AWS_LAMBDA_RUNTIME_API}`:
 *  - POST /2020-01-01/extension/register, header `Lambda-Extension-Name` (the executable's file
 *    name) and `Lambda-Extension-Accept-Feature: accountId`, body `{"events":["INVOKE","SHUTDOWN"]}`;
 *    the answer's `Lambda-Extension-Identifier` header goes with every later call;
 *  - GET /2020-01-01/extension/event/next: blocks (no timeout) until INVOKE or SHUTDOWN;
 *  - POST /2020-01-01/extension/init/error and /exit/error with `Lambda-Extension-Function-Error-Type`;
 *  - PUT /2022-07-01/telemetry: the subscription.
 * Only node:http: the extension must start fast and carry no client library.
 */
import * as http from "node:http";

export interface Registration {
  extensionId: string;
  functionName?: string;
  functionVersion?: string;
  handler?: string;
  /** Given when registering with `Lambda-Extension-Accept-Feature: accountId`. */
  accountId?: string;
}

export type LifecycleEvent =
  | { eventType: "INVOKE"; deadlineMs: number; requestId: string; invokedFunctionArn?: string }
  | { eventType: "SHUTDOWN"; deadlineMs: number; shutdownReason?: string };

export interface Subscription {
  schemaVersion: "2022-12-13";
  destination: { protocol: "HTTP"; URI: string };
  types: string[];
  buffering: { maxItems: number; maxBytes: number; timeoutMs: number };
}

export class LambdaApiError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = "LambdaApiError";
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class LambdaApi {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private extensionId: string | undefined;

  constructor(private readonly runtimeApi: string) {}

  private request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const request = http.request(`http://${this.runtimeApi}${path}`, {
        method,
        agent: this.agent,
        headers: {
          ...(this.extensionId ? { "Lambda-Extension-Identifier": this.extensionId } : {}),
          ...(body !== undefined ? { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)) } : {}),
          ...headers,
        },
      });
      request.on("error", (error) => reject(new LambdaApiError(`${method} ${path}: ${error.message}`)));
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", (error) => reject(new LambdaApiError(`${method} ${path}: ${error.message}`)));
      });
      request.end(body);
    });
  }

  private static fail(what: string, answer: Answer): never {
    throw new LambdaApiError(`${what} failed: HTTP ${answer.status} ${answer.body.slice(0, 500)}`, answer.status);
  }

  async register(name: string): Promise<Registration> {
    const answer = await this.request("POST", "/2020-01-01/extension/register", {
      "Lambda-Extension-Name": name,
      "Lambda-Extension-Accept-Feature": "accountId",
    }, JSON.stringify({ events: ["INVOKE", "SHUTDOWN"] }));
    const id = answer.headers["lambda-extension-identifier"];
    if (answer.status !== 200 || typeof id !== "string" || id === "") LambdaApi.fail("register", answer);
    this.extensionId = id;
    const info = parseObject(answer.body);
    const text = (key: string) => (typeof info[key] === "string" && info[key] !== "" ? (info[key] as string) : undefined);
    return { extensionId: id, functionName: text("functionName"), functionVersion: text("functionVersion"), handler: text("handler"), accountId: text("accountId") };
  }

  async next(): Promise<LifecycleEvent> {
    const answer = await this.request("GET", "/2020-01-01/extension/event/next", {});
    if (answer.status !== 200) LambdaApi.fail("event/next", answer);
    const event = parseObject(answer.body);
    const deadlineMs = Number(event.deadlineMs);
    if (event.eventType === "INVOKE" && typeof event.requestId === "string" && Number.isFinite(deadlineMs)) {
      return { eventType: "INVOKE", deadlineMs, requestId: event.requestId, invokedFunctionArn: typeof event.invokedFunctionArn === "string" ? event.invokedFunctionArn : undefined };
    }
    if (event.eventType === "SHUTDOWN") {
      return { eventType: "SHUTDOWN", deadlineMs: Number.isFinite(deadlineMs) ? deadlineMs : Date.now() + 1000, shutdownReason: typeof event.shutdownReason === "string" ? event.shutdownReason : undefined };
    }
    throw new LambdaApiError(`event/next returned an unknown event: ${answer.body.slice(0, 200)}`);
  }

  async subscribe(subscription: Subscription): Promise<void> {
    const answer = await this.request("PUT", "/2022-07-01/telemetry", {}, JSON.stringify(subscription));
    if (answer.status !== 200) LambdaApi.fail("telemetry subscription", answer);
  }

  /** Reports an init failure (bad settings): Lambda then fails the init and no further call succeeds. */
  async initError(errorType: string, error: Error): Promise<void> {
    await this.reportError("/2020-01-01/extension/init/error", errorType, error);
  }

  async exitError(errorType: string, error: Error): Promise<void> {
    await this.reportError("/2020-01-01/extension/exit/error", errorType, error);
  }

  private async reportError(path: string, errorType: string, error: Error): Promise<void> {
    const body = JSON.stringify({ errorMessage: error.message, errorType, stackTrace: [] });
    const answer = await this.request("POST", path, { "Lambda-Extension-Function-Error-Type": errorType }, body);
    if (answer.status !== 202) LambdaApi.fail(path, answer);
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
