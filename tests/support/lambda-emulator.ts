/**
 * A local emulation of the Lambda execution environment as an external extension sees it: the
 * Extensions API (register, event/next, init/error, exit/error), the Telemetry API (subscribe and
 * delivery of batches to the extension's listener), the lifecycle (INIT, INVOKE, SHUTDOWN) and the
 * freezing of the environment between invocations (SIGSTOP/SIGCONT of the extension's process
 * group). It spawns an extension executable as Lambda spawns /opt/extensions/*, simulates the
 * function (its log lines, its duration, its outcome) and reports what the extension did.
 *
 * ```ts
 * const lambda = await LambdaEmulator.start({ executable: "dist/extension/extensions/lambda-promtail", env: { LOKI_WRITE_ADDRESS: url } });
 * const { postRuntimeMs } = await lambda.invoke({ logs: ["hello"] });
 * const { killed } = await lambda.shutdown();
 * await lambda.close(); // always, e.g. in afterEach
 * ```
 *
 * Sources: AWS's "Lambda Extensions API" and "Lambda Telemetry API" reference pages, and AWS's own
 * platform code in aws/aws-lambda-runtime-interface-emulator (internal/lambda/rapi: handlers, error
 * types, event shapes; internal/lambda/rapid/shutdown.go: the SHUTDOWN sequence;
 * internal/lambda/rapidcore/env: the extension's environment). Where they are silent, the choice is
 * marked ASSUMPTION. Telemetry validation and delivery live in lambda-telemetry.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import {
  TelemetryDelivery,
  checkSubscription,
  type Delivery,
  type DeliveryOptions,
  type TelemetryEvent,
} from "./lambda-telemetry";

export type { Delivery, TelemetryEvent } from "./lambda-telemetry";

export interface EmulatorOptions {
  /** Path of the extension executable to spawn (as Lambda runs /opt/extensions/*). */
  executable: string;
  /** The function's configured environment (LOKI_* settings etc.). */
  env?: Record<string, string>;
  functionName?: string;
  functionVersion?: string;
  /** AWS_LAMBDA_FUNCTION_MEMORY_SIZE and platform.report's memorySizeMB. */
  memoryMb?: number;
  /** Returned by register when the extension asks with `Lambda-Extension-Accept-Feature: accountId`. */
  accountId?: string;
  region?: string;
  /** The function timeout: INVOKE's deadlineMs is the invocation start plus this. */
  timeoutMs?: number;
  /** Time extensions get at SHUTDOWN before SIGKILL (Lambda: 2000 ms less the runtime's share). */
  shutdownTimeoutMs?: number;
  /** Time the extension gets to register and call its first /event/next. */
  initTimeoutMs?: number;
  /** SIGSTOP the extension's process group between invocations, SIGCONT on the next (default true). */
  freeze?: boolean;
  /** The function's log format: Text gives string `function` records, JSON gives objects. */
  logFormat?: "Text" | "JSON";
  /** The function's handler, returned by register. */
  handler?: string;
  /** Telemetry delivery tuning (retry schedule, POST timeout, queue bound). */
  telemetry?: DeliveryOptions;
  /** Keep at most this many characters of the extension's stdout and of its stderr (the newest). */
  maxOutputChars?: number;
}

export interface InvokeOptions {
  requestId?: string;
  /**
   * What the function writes, one `function` record each (a multi-line string stays one record, as
   * the Node.js runtime sends it). Text format takes strings, JSON format objects (strings are
   * wrapped as {timestamp, level: "INFO", requestId, message}).
   */
  logs?: Array<string | Record<string, unknown>>;
  /** Simulated runtime duration. */
  durationMs?: number;
  status?: "success" | "error" | "timeout";
}

export interface ShutdownResult {
  exitCode: number | null;
  signal: string | null;
  /** True when the extension had not exited by the deadline and was SIGKILLed. */
  killed: boolean;
  /** From SHUTDOWN (or the reset) until the process was gone. */
  durationMs: number;
}

export interface InvokeResult {
  requestId: string;
  /** Time from platform.runtimeDone until the extension called /event/next again. */
  postRuntimeMs: number;
  /** Time from the INVOKE event until the invocation completed (runtime done and extension in /event/next). */
  invocationMs: number;
  /** The invocation ran past its deadline (function timeout, or the extension did not call /event/next in time). */
  timedOut: boolean;
  /** When the invocation failed (timeout), Lambda resets the environment: how that went. */
  reset?: ShutdownResult;
}

interface Registration {
  name: string;
  events: string[];
  acceptFeature?: string;
}

interface ExtensionError {
  errorType: string;
  message: string;
}

type Phase = "init" | "ready" | "invoking" | "shutting-down" | "gone";

const REGISTER_PATH = "/2020-01-01/extension/register";
const NEXT_PATH = "/2020-01-01/extension/event/next";
const INIT_ERROR_PATH = "/2020-01-01/extension/init/error";
const EXIT_ERROR_PATH = "/2020-01-01/extension/exit/error";
const TELEMETRY_PATHS = new Set(["/2022-07-01/telemetry", "/2022-07-01/telemetry/"]);
const MAX_REQUEST_BODY = 1024 * 1024;

/** Every emulator whose process may still run, so that a crashing test run leaves no process behind. */
const live = new Set<LambdaEmulator>();
process.once("exit", () => {
  for (const emulator of live) emulator.killNow();
});

/** A promise with its resolver, for events the lifecycle waits on. */
class Signal<T = void> {
  resolve!: (value: T) => void;
  readonly promise = new Promise<T>((resolve) => (this.resolve = resolve));
}

/** Resolves to the value of `promise`, or to `onTimeout` after `ms`. */
async function within<T, U>(promise: Promise<T>, ms: number, onTimeout: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function traceHeader(): string {
  const epochHex = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epochHex}-${randomBytes(12).toString("hex")};Parent=${randomBytes(8).toString("hex")};Sampled=0`;
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY) request.destroy(new Error("request body too large"));
      else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function sendJson(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** Lambda's error answer: `{errorMessage, errorType}` (rapi/model/errorresponse.go). */
function sendError(response: http.ServerResponse, status: number, errorType: string, errorMessage: string): void {
  sendJson(response, status, { errorMessage, errorType });
}

/** Peak resident memory of a process (VmHWM) in MB, rounded up; 0 when unknown. */
function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Math.ceil(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** Whether a process is stopped (SIGSTOP), running, or unknown (gone, or no /proc). */
function processState(pid: number | undefined): "stopped" | "running" | "unknown" {
  if (pid === undefined) return "unknown";
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "T" || state === "t" ? "stopped" : state === "Z" || state === "X" ? "unknown" : "running";
  } catch {
    return "unknown";
  }
}

export class LambdaEmulator {
  private readonly options: Required<Omit<EmulatorOptions, "env" | "telemetry">> & Pick<EmulatorOptions, "env" | "telemetry">;
  private server!: http.Server;
  private port = 0;
  private child: ChildProcess | undefined;
  private extensionId: string = randomUUID();
  private phase: Phase = "init";
  private frozen = false;
  private closed = false;
  private stdoutText = "";
  private stderrText = "";
  private readonly outputLines = { stdout: "", stderr: "" };

  /** The /event/next request being held (long poll), if any. */
  private waiting: http.ServerResponse | undefined;
  /** The event the extension gets on its next /event/next. */
  private pendingEvent: Record<string, unknown> | undefined;
  /** Resolved whenever the extension calls /event/next (it is "ready"). */
  private nextCalled = new Signal<number>();
  private readonly exited = new Signal<{ code: number | null; signal: string | null }>();
  private exitInfo: { code: number | null; signal: string | null } | undefined;
  private readonly registered = new Signal();
  private readonly failed = new Signal();

  private delivery: TelemetryDelivery | undefined;
  /** Events produced during init, replayed to a subscriber that subscribes during init (as AWS's relay does). */
  private initEvents: TelemetryEvent[] | undefined = [];
  private readonly events: TelemetryEvent[] = [];
  private initDurationMs: number | undefined;
  private firstReportSent = false;

  initError?: ExtensionError;
  exitError?: ExtensionError;
  registration?: Registration;
  /** The PUT /2022-07-01/telemetry body as received (the last accepted one). */
  subscription?: unknown;
  /** Every subscription attempt and the status it was answered. */
  readonly subscriptionAttempts: { status: number; body: unknown; answer: unknown }[] = [];
  /** Why start() ended without a ready extension, when it did. */
  startFailure?: string;
  private spawnError?: string;

  private constructor(options: EmulatorOptions) {
    this.options = {
      functionName: "my-function",
      functionVersion: "$LATEST",
      memoryMb: 128,
      accountId: "123456789012",
      region: "us-east-1",
      timeoutMs: 3000,
      shutdownTimeoutMs: 2000,
      initTimeoutMs: 10000,
      freeze: true,
      logFormat: "Text",
      handler: "index.handler",
      maxOutputChars: 4 * 1024 * 1024,
      ...options,
    };
  }

  /**
   * Starts the Extensions API, spawns the extension and waits until it has registered and called
   * /event/next (INIT done), or reported an init error, or exited, or initTimeoutMs passed. In the
   * last three cases the process is ended (as Lambda resets the environment) and `startFailure` says
   * why; `invoke` then throws.
   */
  static async start(options: EmulatorOptions): Promise<LambdaEmulator> {
    const emulator = new LambdaEmulator(options);
    try {
      await emulator.init();
    } catch (error) {
      await emulator.close();
      throw error;
    }
    return emulator;
  }

  /** The extension's stdout so far. */
  stdout(): string {
    return this.stdoutText;
  }

  /** The extension's stderr so far. */
  stderr(): string {
    return this.stderrText;
  }

  /** Telemetry POSTs made and what the listener answered (status 0: no answer). */
  deliveries(): Delivery[] {
    return this.delivery ? [...this.delivery.deliveries] : [];
  }

  /** Events in telemetry batches the listener accepted, in order. */
  delivered(): TelemetryEvent[] {
    return this.delivery ? [...this.delivery.delivered] : [];
  }

  /** Every telemetry event the platform produced, subscribed to or not. */
  telemetry(): TelemetryEvent[] {
    return [...this.events];
  }

  /**
   * POSTs `body` as is to the subscriber's listener, outside the batching (to see how the extension
   * takes a malformed or hostile POST, which Lambda itself never sends). A frozen environment is
   * thawed for the call (without releasing waiting telemetry) and frozen again after.
   */
  async postRawTelemetry(body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    if (!this.delivery) throw new Error("the extension has not subscribed to telemetry");
    const wasFrozen = this.frozen;
    if (wasFrozen) this.thawProcess();
    try {
      const answer = await fetch(this.delivery.subscription.deliveryUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        body,
        signal: AbortSignal.timeout(5000),
      });
      return { status: answer.status, body: await answer.text() };
    } finally {
      if (wasFrozen && !this.closed && !this.exitInfo) {
        this.frozen = true;
        this.signalGroup("SIGSTOP");
      }
    }
  }

  /** The extension's process id (its process group leader). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The Runtime API address given as AWS_LAMBDA_RUNTIME_API. */
  get runtimeApi(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** Whether the extension is ready for an invocation. */
  get ready(): boolean {
    return this.phase === "ready";
  }

  private async init(): Promise<void> {
    this.server = http.createServer((request, response) => {
      this.route(request, response).catch((error: Error) => {
        if (!response.headersSent) sendError(response, 500, "InternalServerError", error.message);
      });
    });
    // The extension long-polls /event/next and may be frozen for a long time: no server-side timeouts.
    this.server.keepAliveTimeout = 0;
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
    this.server.timeout = 0;
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;

    const initStart = Date.now();
    this.emit("platform.initStart", {
      initializationType: "on-demand",
      phase: "init",
      runtimeVersion: "emulated",
      functionName: this.options.functionName,
      functionVersion: this.options.functionVersion,
    });
    this.spawnExtension();
    live.add(this);

    const outcome = await within(
      Promise.race([
        this.nextCalled.promise.then(() => "ready" as const),
        this.failed.promise.then(() => "failed" as const),
        this.exited.promise.then(() => "exited" as const),
      ]),
      this.options.initTimeoutMs,
      "timeout" as const,
    );

    if (outcome === "ready" && this.registration?.name !== path.basename(this.options.executable)) {
      // Lambda waits for the external extension to register under its file name; an extension that
      // registers under another name is an internal extension, and the external one never finished
      // its bootstrap. ASSUMPTION: report that at once rather than wait for the init timeout.
      this.startFailure = `the extension registered as ${JSON.stringify(this.registration?.name)}, not as its file name ${JSON.stringify(path.basename(this.options.executable))}`;
    } else if (outcome === "failed") {
      this.startFailure = `init error ${this.initError?.errorType ?? this.exitError?.errorType}: ${this.initError?.message ?? this.exitError?.message}`;
    } else if (outcome === "exited") {
      this.startFailure = this.spawnError ?? `the extension exited during init (code ${this.exitInfo?.code}, signal ${this.exitInfo?.signal})`;
    } else if (outcome === "timeout") {
      this.startFailure = `the extension did not ${this.registration ? "call /event/next" : "register"} within ${this.options.initTimeoutMs} ms`;
    }

    this.initDurationMs = Date.now() - initStart;
    const status = this.startFailure === undefined ? "success" : "error";
    this.emit("platform.initRuntimeDone", { initializationType: "on-demand", phase: "init", status });
    this.emit("platform.initReport", {
      initializationType: "on-demand",
      phase: "init",
      status,
      metrics: { durationMs: this.initDurationMs },
    });
    // Subscriptions are accepted during init only ("Telemetry API subscription is closed" afterwards).
    this.initEvents = undefined;

    if (this.startFailure !== undefined) {
      // Lambda resets the environment after a failed init: whatever still runs gets SHUTDOWN
      // (reason failure) if it is waiting for events, and is killed at the deadline.
      await this.reset("failure");
      return;
    }
    this.phase = "ready";
    await this.freeze();
  }

  private spawnExtension(): void {
    const platform: Record<string, string> = {
      AWS_LAMBDA_RUNTIME_API: this.runtimeApi,
      AWS_LAMBDA_FUNCTION_NAME: this.options.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: this.options.functionVersion,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.options.memoryMb),
      AWS_REGION: this.options.region,
      AWS_DEFAULT_REGION: this.options.region,
      // ASSUMPTION: Lambda's reference lists AWS_LAMBDA_INITIALIZATION_TYPE among the variables it
      // sets; AWS's emulator code does not show whether extensions see it. Given, as "on-demand".
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      TZ: ":UTC",
    };
    // Extensions get the function's credentials. ASSUMPTION: fake ones, so that an SDK in the
    // extension never walks the credential chain to a metadata endpoint; tests may override them.
    const credentials: Record<string, string> = {
      AWS_ACCESS_KEY_ID: "ASIAEMULATOREXAMPLE00",
      AWS_SECRET_ACCESS_KEY: "emulator-secret-access-key-example",
      AWS_SESSION_TOKEN: "emulator-session-token-example",
    };
    // ASSUMPTION: the host's PATH (Lambda's is /usr/local/bin:/usr/bin/:/bin:/opt/bin), so that a
    // `#!/usr/bin/env node` executable finds node here; LANG as Lambda sets it.
    const host: Record<string, string> = { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin", LANG: "en_US.UTF-8" };
    // rapidcore/env AgentExecEnv: customer ∪ credentials ∪ platform, without the runtime-only
    // variables (AWS_EXECUTION_ENV, AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME,
    // LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR, _HANDLER) and without any variable starting with "_"
    // or the X-Ray ones. The reference lists the same exclusions.
    const excluded = new Set(["AWS_XRAY_CONTEXT_MISSING", "AWS_XRAY_DAEMON_ADDRESS", "AWS_EXECUTION_ENV", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"]);
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...host, ...this.options.env, ...credentials, ...platform })) {
      if (!key.startsWith("_") && !excluded.has(key)) env[key] = value;
    }
    for (const [key, value] of Object.entries(this.options.env ?? {})) {
      if (key in credentials) env[key] = value;
    }

    // Its own process group, so that freezing and killing reach whatever the executable starts
    // (Lambda freezes the whole environment).
    // ASSUMPTION: the working directory is the executable's directory (Lambda does not document it;
    // an extension should find its files relative to its own path anyway).
    const executable = path.resolve(this.options.executable);
    const child = spawn(executable, [], {
      env,
      cwd: path.dirname(executable),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (text: string) => this.onOutput("stdout", text));
    child.stderr!.on("data", (text: string) => this.onOutput("stderr", text));
    child.on("error", (error) => {
      this.spawnError = `could not start ${executable}: ${error.message}`;
      this.onExit(null, null);
    });
    child.on("exit", (code, signal) => this.onExit(code, signal));
  }

  private onOutput(stream: "stdout" | "stderr", text: string): void {
    const cap = this.options.maxOutputChars;
    if (stream === "stdout") this.stdoutText = (this.stdoutText + text).slice(-cap);
    else this.stderrText = (this.stderrText + text).slice(-cap);
    // Lambda turns each line an extension writes into an `extension` telemetry record.
    // ASSUMPTION: the record keeps its trailing newline, as `function` records in Text format do.
    const pending = this.outputLines[stream] + text;
    const lines = pending.split("\n");
    this.outputLines[stream] = lines.pop()!.slice(-cap);
    for (const line of lines) this.emit("extension", `${line}\n`);
  }

  private onExit(code: number | null, signal: string | null): void {
    if (this.exitInfo) return;
    this.exitInfo = { code, signal };
    live.delete(this);
    if (this.waiting && !this.waiting.writableEnded) this.waiting.destroy();
    this.waiting = undefined;
    this.exited.resolve(this.exitInfo);
  }

  /** Produces a telemetry event now and hands it to the subscriber (or the init replay buffer). */
  private emit(type: string, record: unknown): void {
    const event: TelemetryEvent = { time: new Date().toISOString(), type, record };
    this.events.push(event);
    this.initEvents?.push(event);
    this.delivery?.add(event);
  }

  private async route(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = (request.url ?? "").split("?")[0];
    const method = request.method ?? "";
    if (method === "POST" && url === REGISTER_PATH) return this.onRegister(request, response, await readBody(request));
    if (method === "GET" && url === NEXT_PATH) return this.withExtensionId(request, response, () => this.onNext(response));
    if (method === "POST" && (url === INIT_ERROR_PATH || url === EXIT_ERROR_PATH)) {
      const body = await readBody(request);
      return this.withExtensionId(request, response, () => this.onError(url === INIT_ERROR_PATH ? "init" : "exit", request, response, body));
    }
    if (method === "PUT" && TELEMETRY_PATHS.has(url)) {
      const body = await readBody(request);
      return this.withExtensionId(request, response, () => this.onSubscribe(response, body));
    }
    sendError(response, 404, "NotFound", `${method} ${url} is not part of the Extensions API or the Telemetry API`);
  }

  /** The identifier checks of rapi/middleware (AgentUniqueIdentifierHeaderValidator) and the handlers. */
  private withExtensionId(request: http.IncomingMessage, response: http.ServerResponse, handle: () => void): void {
    const id = request.headers["lambda-extension-identifier"];
    if (typeof id !== "string" || id === "") {
      return sendError(response, 403, "Extension.MissingExtensionIdentifier", "Missing Lambda-Extension-Identifier header");
    }
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
      return sendError(response, 403, "Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier");
    }
    if (this.registration === undefined || id.toLowerCase() !== this.extensionId) {
      return sendError(response, 403, "Extension.UnknownExtensionIdentifier", `Unknown extension ${id}`);
    }
    handle();
  }

  private onRegister(request: http.IncomingMessage, response: http.ServerResponse, body: string): void {
    const name = request.headers["lambda-extension-name"];
    if (typeof name !== "string" || name === "") {
      return sendError(response, 403, "Extension.InvalidExtensionName", "Empty extension name");
    }
    if (this.phase !== "init") return sendError(response, 403, "Extension.RegistrationClosed", "Extension registration closed already");
    let events: unknown;
    try {
      const parsed = JSON.parse(body) as { events?: unknown; configurationKeys?: unknown };
      if (Array.isArray(parsed.configurationKeys) && parsed.configurationKeys.length > 0) {
        return sendError(response, 403, "InvalidRequestFormat", "configurationKeys are deprecated; use environment variables instead");
      }
      events = parsed.events ?? [];
    } catch (error) {
      return sendError(response, 403, "InvalidRequestFormat", (error as Error).message);
    }
    if (!Array.isArray(events)) return sendError(response, 403, "InvalidRequestFormat", "events should be an array of strings");
    const external = name === path.basename(this.options.executable);
    for (const event of events) {
      if (event !== "INVOKE" && event !== "SHUTDOWN") {
        return sendError(response, 403, "Extension.InvalidEventType", `${String(event)}: invalid event type`);
      }
      if (!external && event === "SHUTDOWN") {
        // Only external extensions (an executable in /opt/extensions, named by its file name) may
        // register for SHUTDOWN; any other name is an internal extension.
        return sendError(response, 403, "Extension.InvalidEventType", `${event}: internal extensions cannot register for the SHUTDOWN event`);
      }
    }
    if (this.registration !== undefined) {
      return sendError(response, 403, "Extension.InvalidExtensionState", `State transition from Registered to Registered failed for extension ${name}. Error: already registered`);
    }
    const acceptFeature = request.headers["lambda-extension-accept-feature"];
    this.registration = {
      name,
      events: events as string[],
      ...(typeof acceptFeature === "string" ? { acceptFeature } : {}),
    };
    const features = typeof acceptFeature === "string" ? acceptFeature.split(",").map((feature) => feature.trim()) : [];
    this.emit("platform.extension", { name, state: "Ready", events: [...(events as string[])].sort() });
    sendJson(
      response,
      200,
      {
        functionName: this.options.functionName,
        functionVersion: this.options.functionVersion,
        handler: this.options.handler,
        ...(features.includes("accountId") && this.options.accountId ? { accountId: this.options.accountId } : {}),
      },
      { "Lambda-Extension-Identifier": this.extensionId },
    );
    this.registered.resolve();
  }

  private onNext(response: http.ServerResponse): void {
    if (this.initError || this.exitError) {
      // "After Lambda receives the error, no further API calls succeed."
      return sendError(response, 403, "Extension.InvalidExtensionState", `State transition from ${this.initError ? "InitError" : "ExitError"} to Ready failed for extension ${this.registration?.name}`);
    }
    if (this.waiting && !this.waiting.writableEnded) {
      return sendError(response, 403, "Extension.InvalidExtensionState", "State transition from Ready to Ready failed: /event/next is already pending");
    }
    this.waiting = response;
    response.on("close", () => {
      if (this.waiting === response) this.waiting = undefined;
    });
    const calledAt = Date.now();
    const signal = this.nextCalled;
    this.nextCalled = new Signal<number>();
    signal.resolve(calledAt);
    this.deliverEvent();
  }

  private onError(kind: "init" | "exit", request: http.IncomingMessage, response: http.ServerResponse, body: string): void {
    const errorType = request.headers["lambda-extension-function-error-type"];
    if (typeof errorType !== "string" || errorType === "") {
      return sendError(response, 403, "Extension.MissingHeader", "Lambda-Extension-Function-Error-Type not found");
    }
    if (kind === "init" && this.phase !== "init") {
      return sendError(response, 403, "Extension.InvalidExtensionState", `State transition from Ready to InitError failed for extension ${this.registration?.name}. Error: init is over`);
    }
    // The body is an ErrorRequest: {errorMessage, errorType, stackTrace}.
    let message = body;
    try {
      const parsed = JSON.parse(body) as { errorMessage?: unknown };
      if (typeof parsed.errorMessage === "string") message = parsed.errorMessage;
    } catch {
      // not JSON: keep the raw body as the message
    }
    const error = { errorType, message };
    if (kind === "init") this.initError = error;
    else this.exitError = error;
    this.emit("platform.extension", { name: this.registration?.name, state: kind === "init" ? "InitError" : "ExitError", events: this.registration?.events ?? [], errorType });
    sendJson(response, 202, { status: "OK" });
    this.failed.resolve();
  }

  private onSubscribe(response: http.ServerResponse, body: string): void {
    let parsed: unknown;
    const answer = (status: number, content: unknown) => {
      this.subscriptionAttempts.push({ status, body: parsed ?? body, answer: content });
      sendJson(response, status, content);
    };
    if (this.initEvents === undefined) {
      return answer(403, { errorMessage: "Telemetry API subscription is closed", errorType: "Telemetry.SubscriptionClosed" });
    }
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      return answer(400, { errorType: "ValidationError", errorMessage: `failed to parse JSON: ${(error as Error).message}` });
    }
    const check = checkSubscription(parsed, this.port);
    if (!check.ok) return answer(400, { errorType: "ValidationError", errorMessage: check.errorMessage });
    if (this.delivery !== undefined) {
      // AWS's platform code refuses a second subscriber of the same name with an internal error.
      return answer(500, { errorMessage: "Internal Server Error", errorType: "InternalServerError" });
    }
    this.subscription = parsed;
    this.delivery = new TelemetryDelivery(check.subscription, this.options.telemetry ?? {}, (records, bytes) =>
      this.emit("platform.logsDropped", {
        droppedBytes: bytes,
        droppedRecords: records,
        reason: "Consumer seems to have fallen behind as it has not acknowledged receipt of logs.",
      }),
    );
    this.delivery.setOpen(!this.frozen);
    // What happened during init so far reaches the new subscriber too, then its own subscription event.
    for (const event of this.initEvents) this.delivery.add(event);
    this.emit("platform.telemetrySubscription", { name: this.registration?.name, state: "Subscribed", types: check.subscription.types });
    answer(200, "OK");
  }

  /** Answers the pending /event/next with the queued event, if both exist. */
  private deliverEvent(): void {
    if (this.pendingEvent === undefined || this.waiting === undefined || this.waiting.writableEnded) return;
    const response = this.waiting;
    const event = this.pendingEvent;
    this.waiting = undefined;
    this.pendingEvent = undefined;
    sendJson(response, 200, event, {
      "Lambda-Extension-Event-Identifier": randomUUID(),
      "Lambda-Extension-Identifier": this.extensionId,
    });
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined || this.exitInfo) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  }

  /** Freezes the environment (if configured): no telemetry POST in flight, then SIGSTOP. */
  private async freeze(): Promise<void> {
    if (!this.options.freeze || this.frozen || this.exitInfo) return;
    this.delivery?.setOpen(false);
    // ASSUMPTION: a POST already in flight is given a moment to be answered before the freeze;
    // if it is not, it is aborted and retried after the thaw (the listener may then see it twice).
    await this.delivery?.settle(1000);
    this.frozen = true;
    this.signalGroup("SIGSTOP");
    // The signal takes effect when the process is next scheduled; wait (bounded) until it has, so
    // that "frozen" means stopped when invoke() returns.
    const until = Date.now() + 1000;
    while (Date.now() < until && processState(this.child?.pid) === "running") await new Promise((resolve) => setTimeout(resolve, 2));
  }

  private thaw(): void {
    this.thawProcess();
    this.delivery?.setOpen(true);
  }

  private thawProcess(): void {
    if (this.frozen) {
      this.frozen = false;
      this.signalGroup("SIGCONT");
    }
  }

  private assertUsable(action: string): void {
    if (this.closed) throw new Error(`cannot ${action}: the emulator is closed`);
    if (this.startFailure) throw new Error(`cannot ${action}: init failed (${this.startFailure})`);
    if (this.exitInfo) throw new Error(`cannot ${action}: the extension exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal})`);
    if (this.phase !== "ready") throw new Error(`cannot ${action}: the environment is ${this.phase}`);
  }

  /**
   * One invocation: thaw, INVOKE to the extension (deadlineMs = now + timeoutMs), platform.start,
   * the function's log records, platform.runtimeDone after durationMs; the invocation completes when
   * the extension has called /event/next again; then platform.report (delivered after the thaw of
   * the next invocation, or at shutdown, when freezing) and the freeze. An invocation past its
   * deadline resets the environment (SHUTDOWN reason "timeout").
   */
  async invoke(options: InvokeOptions = {}): Promise<InvokeResult> {
    this.assertUsable("invoke");
    this.phase = "invoking";
    const requestId = options.requestId ?? randomUUID();
    const status = options.status ?? "success";
    const start = Date.now();
    const deadlineMs = start + this.options.timeoutMs;
    const tracing = { type: "X-Amzn-Trace-Id", value: traceHeader() };
    const spanId = randomBytes(8).toString("hex");

    this.thaw();
    const nextAfterInvoke = this.nextCalled.promise;
    this.pendingEvent = {
      eventType: "INVOKE",
      deadlineMs,
      requestId,
      invokedFunctionArn: `arn:aws:lambda:${this.options.region}:${this.options.accountId}:function:${this.options.functionName}`,
      tracing,
    };
    this.deliverEvent();
    this.emit("platform.start", { requestId, version: this.options.functionVersion, tracing: { spanId, ...tracing } });

    const producedBytes = this.writeFunctionLogs(requestId, options.logs ?? []);
    const runtimeMs = status === "timeout" ? this.options.timeoutMs : Math.min(options.durationMs ?? 5, this.options.timeoutMs);
    const exited = this.exited.promise.then(() => true);
    let exitedEarly = await within(exited, Math.max(0, start + runtimeMs - Date.now()), false);
    // A timer may fire a millisecond early as Date.now() counts: the runtime runs its full duration.
    while (!exitedEarly && Date.now() < start + runtimeMs) exitedEarly = await within(exited, start + runtimeMs - Date.now(), false);
    if (exitedEarly) return this.failInvocation(requestId);

    const runtimeDoneAt = Date.now();
    const runtimeDurationMs = runtimeDoneAt - start;
    // ASSUMPTION: errorType values for the simulated failures ("Error" as the Node runtime reports
    // an uncaught error, "Sandbox.Timedout" for a timeout).
    const errorType = status === "error" ? { errorType: "Error" } : status === "timeout" ? { errorType: "Sandbox.Timedout" } : {};
    this.emit("platform.runtimeDone", {
      requestId,
      status,
      ...errorType,
      metrics: { durationMs: runtimeDurationMs, producedBytes },
      tracing: { spanId, ...tracing },
      spans: [
        { name: "responseLatency", start: new Date(runtimeDoneAt).toISOString(), durationMs: 0 },
        { name: "responseDuration", start: new Date(runtimeDoneAt).toISOString(), durationMs: 0 },
      ],
    });

    // The invocation is complete when the extension calls /event/next again, within the deadline.
    const outcome = await within(
      Promise.race([nextAfterInvoke.then((at) => ({ at })), this.exited.promise.then(() => "exited" as const)]),
      deadlineMs - Date.now(),
      "timeout" as const,
    );
    if (outcome === "exited") return this.failInvocation(requestId);
    const timedOut = status === "timeout" || outcome === "timeout";
    const completedAt = outcome === "timeout" ? Date.now() : Math.max(outcome.at, runtimeDoneAt);
    const postRuntimeMs = completedAt - runtimeDoneAt;

    // The report comes after the environment is frozen, so its delivery waits for the thaw.
    if (this.options.freeze && !timedOut) this.delivery?.setOpen(false);
    const durationMs = completedAt - start;
    this.emit("platform.report", {
      requestId,
      status: timedOut ? "timeout" : status,
      ...(timedOut ? { errorType: "Sandbox.Timedout" } : errorType),
      metrics: {
        durationMs,
        billedDurationMs: Math.max(1, Math.ceil(durationMs)),
        memorySizeMB: this.options.memoryMb,
        maxMemoryUsedMB: peakRssMb(this.child?.pid),
        ...(this.firstReportSent ? {} : { initDurationMs: this.initDurationMs }),
      },
      tracing: { spanId, ...tracing },
    });
    this.firstReportSent = true;

    if (timedOut) {
      const reset = await this.reset("timeout");
      return { requestId, postRuntimeMs, invocationMs: durationMs, timedOut: true, reset };
    }
    this.phase = "ready";
    await this.freeze();
    return { requestId, postRuntimeMs, invocationMs: durationMs, timedOut: false };
  }

  private async failInvocation(requestId: string): Promise<never> {
    this.phase = "gone";
    this.delivery?.close();
    throw new Error(`the extension exited during invocation ${requestId} (code ${this.exitInfo?.code}, signal ${this.exitInfo?.signal}); stderr: ${this.stderrText.slice(-2000)}`);
  }

  /** Emits the function's log lines as `function` records; returns the bytes produced. */
  private writeFunctionLogs(requestId: string, logs: Array<string | Record<string, unknown>>): number {
    let bytes = 0;
    for (const log of logs) {
      let record: unknown;
      if (this.options.logFormat === "JSON") {
        // ASSUMPTION: a plain string in JSON format is wrapped as the managed runtimes wrap console output.
        record = typeof log === "string" ? { timestamp: new Date().toISOString(), level: "INFO", requestId, message: log } : log;
        bytes += Buffer.byteLength(JSON.stringify(record));
      } else {
        // Text format: the line as written, with its trailing newline.
        const text = typeof log === "string" ? log : JSON.stringify(log);
        record = text.endsWith("\n") ? text : `${text}\n`;
        bytes += Buffer.byteLength(record as string);
      }
      this.emit("function", record);
    }
    return bytes;
  }

  /**
   * SHUTDOWN: the environment thaws; the runtime is gone first (its log streams close, so the
   * telemetry buffer is flushed); SHUTDOWN {shutdownReason, deadlineMs} goes to the extension on its
   * /event/next; the extension has until the deadline to exit, then its process group is SIGKILLed.
   * An extension not registered for SHUTDOWN is SIGKILLed at once (rapid/shutdown.go).
   * Reasons are lower case as in AWS's platform code ("spindown", "timeout", "failure"; the
   * reference prints them in capitals).
   */
  async shutdown(reason: "spindown" | "timeout" | "failure" = "spindown"): Promise<ShutdownResult> {
    if (this.closed) throw new Error("cannot shut down: the emulator is closed");
    if (this.phase === "shutting-down" || this.phase === "gone") throw new Error(`cannot shut down: the environment is ${this.phase}`);
    return this.reset(reason);
  }

  private async reset(reason: "spindown" | "timeout" | "failure"): Promise<ShutdownResult> {
    this.phase = "shutting-down";
    const start = Date.now();
    const deadlineMs = start + this.options.shutdownTimeoutMs;
    this.thaw();
    this.delivery?.flush();
    let killed = false;
    if (!this.exitInfo) {
      if (this.registration?.events.includes("SHUTDOWN")) {
        this.pendingEvent = { eventType: "SHUTDOWN", shutdownReason: reason, deadlineMs };
        this.deliverEvent();
        const exited = await within(this.exited.promise.then(() => true), deadlineMs - Date.now(), false);
        if (!exited) killed = true;
      } else {
        killed = true;
      }
      if (killed) {
        this.signalGroup("SIGKILL");
        await within(this.exited.promise, 2000, undefined);
      }
    }
    // Whatever else the executable started in its process group goes with it.
    this.signalGroup("SIGKILL");
    this.phase = "gone";
    this.delivery?.close();
    return {
      exitCode: this.exitInfo?.code ?? null,
      signal: this.exitInfo?.signal ?? null,
      killed,
      durationMs: Date.now() - start,
    };
  }

  /** Immediately kills the process group (also used at process exit). */
  killNow(): void {
    const pid = this.child?.pid;
    if (pid === undefined || this.exitInfo) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }

  /** Kills everything and frees the port; always safe to call, also twice or after a failure. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.phase = "gone";
    this.delivery?.close();
    this.killNow();
    if (this.child && !this.exitInfo) await within(this.exited.promise, 2000, undefined);
    live.delete(this);
    if (this.waiting && !this.waiting.writableEnded) this.waiting.destroy();
    if (this.server?.listening) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }
  }
}

