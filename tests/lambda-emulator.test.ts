/**
 * The local Lambda emulator (tests/support/lambda-emulator.ts) behaves as AWS documents the
 * Extensions API and the Telemetry API, checked with a tiny fixture extension
 * (tests/fixtures/extensions/echo-extension) that writes what it sends and receives to a file.
 */
import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LambdaEmulator, type EmulatorOptions, type TelemetryEvent } from "./support/lambda-emulator";
import { BUFFERING_LIMITS, checkSubscription } from "./support/lambda-telemetry";

const ECHO = path.join(__dirname, "fixtures", "extensions", "echo-extension");

interface EchoRecord {
  at: number;
  kind: "env" | "register" | "init-error" | "exit-error" | "subscribe" | "next" | "event" | "telemetry";
  status?: number;
  id?: string;
  body?: unknown;
  env?: Record<string, string>;
  event?: Record<string, unknown>;
  eventId?: string;
  events?: TelemetryEvent[];
  sequenceId?: string;
  raw?: string;
}

describe("Lambda emulator (Extensions API and Telemetry API)", function () {
  // Spawning node takes up to a second on a loaded machine; every wait below is bounded.
  this.timeout(20000);
  let dir: string;
  let emulator: LambdaEmulator | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "lambda-emulator-"));
  });
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const outFile = () => path.join(dir, "echo.jsonl");
  const records = (): EchoRecord[] =>
    existsSync(outFile())
      ? readFileSync(outFile(), "utf8")
          .split("\n")
          // The last element is "" or a line the fixture is still writing.
          .slice(0, -1)
          .map((line) => JSON.parse(line) as EchoRecord)
      : [];
  const received = (): TelemetryEvent[] => records().flatMap((r) => (r.kind === "telemetry" && r.status === 200 ? r.events! : []));
  const start = async (echo: Record<string, string> = {}, options: Partial<EmulatorOptions> = {}) => {
    emulator = await LambdaEmulator.start({ executable: ECHO, env: { ECHO_OUT: outFile(), ...echo }, ...options });
    return emulator;
  };
  /** Waits (bounded) until the fixture has written a record matching `predicate`. */
  const waitForRecord = async (predicate: (r: EchoRecord) => boolean, ms = 5000) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const found = records().find(predicate);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error("the fixture extension did not write the expected record in time");
  };

  describe("register", () => {
    it("registers under the executable's file name and answers the identifier and function metadata", async () => {
      const lambda = await start({}, { functionName: "orders", functionVersion: "7", handler: "app.handler" });
      expect(lambda.startFailure).to.equal(undefined);
      expect(lambda.registration).to.deep.equal({ name: "echo-extension", events: ["INVOKE", "SHUTDOWN"] });
      const register = records().find((r) => r.kind === "register")!;
      expect(register.status).to.equal(200);
      expect(register.id).to.match(/^[0-9a-f-]{36}$/);
      // No accountId unless the extension asks for the feature.
      expect(register.body).to.deep.equal({ functionName: "orders", functionVersion: "7", handler: "app.handler" });
    });

    it("adds accountId when the extension sends Lambda-Extension-Accept-Feature: accountId", async () => {
      const lambda = await start({ ECHO_ACCEPT_FEATURE: "accountId" }, { accountId: "210987654321" });
      expect(lambda.registration?.acceptFeature).to.equal("accountId");
      expect(records().find((r) => r.kind === "register")!.body).to.include({ accountId: "210987654321" });
    });

    it("refuses SHUTDOWN to an extension registering under another name (an internal extension) and fails init", async () => {
      const lambda = await start({ ECHO_NAME: "not-my-file-name" }, { initTimeoutMs: 3000 });
      const register = records().find((r) => r.kind === "register")!;
      expect(register.status).to.equal(403);
      expect(register.body).to.deep.include({ errorType: "Extension.InvalidEventType" });
      expect(lambda.startFailure).to.be.a("string");
      try {
        await lambda.invoke();
        expect.fail("invoke should throw after a failed init");
      } catch (error) {
        expect((error as Error).message).to.include("init failed");
      }
    });

    it("gives the extension Lambda's environment and the function's, without the runtime-only variables", async () => {
      await start({ LOKI_WRITE_ADDRESS: "http://127.0.0.1:1/loki", AWS_LAMBDA_LOG_GROUP_NAME: "/custom", _HIDDEN: "x" }, { functionName: "orders", memoryMb: 512, region: "eu-west-1" });
      const env = records().find((r) => r.kind === "env")!.env!;
      expect(env).to.include({
        AWS_LAMBDA_FUNCTION_NAME: "orders",
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
        AWS_REGION: "eu-west-1",
        AWS_DEFAULT_REGION: "eu-west-1",
        AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
        LOKI_WRITE_ADDRESS: "http://127.0.0.1:1/loki",
      });
      expect(env.AWS_LAMBDA_RUNTIME_API).to.equal(emulator!.runtimeApi);
      for (const absent of ["AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "_HANDLER", "_HIDDEN"]) {
        expect(env, absent).not.to.have.property(absent);
      }
    });
  });

  describe("init error", () => {
    it("records what the extension posted to /extension/init/error, answers 202 and ends the process", async () => {
      const lambda = await start({ ECHO_INIT_ERROR: "Extension.ConfigError" });
      expect(lambda.initError).to.deep.equal({ errorType: "Extension.ConfigError", message: "LOKI_WRITE_ADDRESS: required" });
      expect(lambda.startFailure).to.include("Extension.ConfigError");
      expect(records().find((r) => r.kind === "init-error")).to.deep.include({ status: 202, body: { status: "OK" } });
      expect(lambda.pid).to.be.a("number");
      expect(() => process.kill(lambda.pid!, 0)).to.throw();
    });
  });

  describe("exit error", () => {
    it("records what the extension posted to /extension/exit/error and fails the invocation it left", async () => {
      const lambda = await start({ ECHO_EXIT_ERROR: "Extension.Crash" });
      try {
        await lambda.invoke();
        expect.fail("invoke should fail when the extension exits during it");
      } catch (error) {
        expect((error as Error).message).to.include("exited during invocation");
      }
      expect(lambda.exitError).to.deep.equal({ errorType: "Extension.Crash", message: "giving up" });
      expect(records().find((r) => r.kind === "exit-error")).to.deep.include({ status: 202, body: { status: "OK" } });
    });
  });

  describe("subscription validation", () => {
    const valid = {
      schemaVersion: "2022-12-13",
      types: ["platform", "function"],
      buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
      destination: { protocol: "HTTP", URI: "http://sandbox.localdomain:4243/" },
    };
    const runtimePort = 40123;
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["maxItems below the minimum", { buffering: { maxItems: BUFFERING_LIMITS.maxItems.min - 1 } }, "buffering.maxItems"],
      ["maxItems above the maximum", { buffering: { maxItems: BUFFERING_LIMITS.maxItems.max + 1 } }, "buffering.maxItems"],
      ["maxBytes below the minimum", { buffering: { maxBytes: 262143 } }, "buffering.maxBytes"],
      ["maxBytes above the maximum", { buffering: { maxBytes: 1048577 } }, "buffering.maxBytes"],
      ["timeoutMs below the minimum", { buffering: { timeoutMs: 24 } }, "buffering.timeoutMs"],
      ["timeoutMs above the maximum", { buffering: { timeoutMs: 30001 } }, "buffering.timeoutMs"],
      ["a fractional timeoutMs", { buffering: { timeoutMs: 100.5 } }, "buffering.timeoutMs"],
      ["a string maxItems", { buffering: { maxItems: "1000" } }, "buffering.maxItems"],
      ["an unknown schema version", { schemaVersion: "2021-03-18" }, "schemaVersion"],
      ["no schema version", { schemaVersion: undefined }, "schemaVersion is required"],
      ["empty types", { types: [] }, "types should not be empty"],
      ["an unknown type", { types: ["platform", "logs"] }, "types should contain only"],
      ["no destination", { destination: undefined }, "destination is required"],
      ["an unknown protocol", { destination: { protocol: "HTTPS", URI: "http://sandbox.localdomain:1234" } }, "destination.protocol"],
      ["a URI without port", { destination: { protocol: "HTTP", URI: "http://sandbox.localdomain/" } }, "URI port is not provided"],
      ["port 9001", { destination: { protocol: "HTTP", URI: "http://sandbox.localdomain:9001/" } }, "reserved"],
      ["the Runtime API port", { destination: { protocol: "HTTP", URI: `http://127.0.0.1:${runtimePort}/` } }, "reserved"],
      ["a host outside the sandbox", { destination: { protocol: "HTTP", URI: "http://example.com:8080/" } }, "sandbox.localdomain"],
      ["https", { destination: { protocol: "HTTP", URI: "https://sandbox.localdomain:8443/" } }, "scheme should be http"],
    ];
    for (const [name, change, message] of cases) {
      it(`refuses ${name}`, () => {
        const check = checkSubscription({ ...valid, ...change }, runtimePort);
        expect(check.ok).to.equal(false);
        if (!check.ok) expect(check.errorMessage).to.include(message);
      });
    }

    it("accepts the documented limits and fills AWS's defaults for missing buffering settings", () => {
      for (const key of ["maxItems", "maxBytes", "timeoutMs"] as const) {
        for (const edge of [BUFFERING_LIMITS[key].min, BUFFERING_LIMITS[key].max]) {
          expect(checkSubscription({ ...valid, buffering: { [key]: edge } }, runtimePort).ok, `${key} ${edge}`).to.equal(true);
        }
      }
      const check = checkSubscription({ ...valid, buffering: undefined, destination: { protocol: "HTTP", URI: "http://sandbox.localdomain:4243/telemetry", method: "POST", encoding: "JSON" } }, runtimePort);
      expect(check).to.deep.equal({
        ok: true,
        subscription: {
          schemaVersion: "2022-12-13",
          types: ["platform", "function"],
          buffering: { maxItems: 10000, maxBytes: 262144, timeoutMs: 1000 },
          uri: "http://sandbox.localdomain:4243/telemetry",
          deliveryUrl: "http://127.0.0.1:4243/telemetry",
        },
      });
    });

    it("closes subscriptions when init is over (403 Telemetry.SubscriptionClosed)", async () => {
      const lambda = await start({ ECHO_RESUBSCRIBE: "1" }, { freeze: false });
      await lambda.invoke();
      const [first, second] = records().filter((r) => r.kind === "subscribe");
      expect(first.status).to.equal(200);
      expect(first.body).to.equal("OK");
      expect(second.status).to.equal(403);
      expect(second.body).to.deep.include({ errorType: "Telemetry.SubscriptionClosed" });
    });

    it("answers 400 ValidationError to an invalid subscription and delivers nothing", async () => {
      const lambda = await start({ ECHO_BUFFERING: JSON.stringify({ maxItems: 10, maxBytes: 262144, timeoutMs: 25 }) });
      const subscribe = records().find((r) => r.kind === "subscribe")!;
      expect(subscribe.status).to.equal(400);
      expect(subscribe.body).to.deep.include({ errorType: "ValidationError" });
      expect(lambda.subscription).to.equal(undefined);
      await lambda.invoke({ logs: ["not delivered"] });
      expect(lambda.deliveries()).to.deep.equal([]);
    });
  });

  describe("events", () => {
    it("sends INVOKE with the request id, the ARN, tracing and deadlineMs = start + function timeout", async () => {
      const lambda = await start({}, { timeoutMs: 5000, functionName: "orders", accountId: "210987654321", region: "eu-west-1" });
      const before = Date.now();
      const result = await lambda.invoke({ requestId: "11111111-2222-3333-4444-555555555555" });
      expect(result.requestId).to.equal("11111111-2222-3333-4444-555555555555");
      expect(result.timedOut).to.equal(false);
      const invoke = records().find((r) => r.kind === "event")!;
      expect(invoke.status).to.equal(200);
      expect(invoke.eventId).to.match(/^[0-9a-f-]{36}$/);
      const event = invoke.event!;
      expect(Object.keys(event).sort()).to.deep.equal(["deadlineMs", "eventType", "invokedFunctionArn", "requestId", "tracing"]);
      expect(event).to.include({ eventType: "INVOKE", requestId: "11111111-2222-3333-4444-555555555555", invokedFunctionArn: "arn:aws:lambda:eu-west-1:210987654321:function:orders" });
      expect(event.deadlineMs).to.be.within(before + 5000, Date.now() + 5000);
      expect(event.tracing).to.have.property("type", "X-Amzn-Trace-Id");
    });

    it("sends SHUTDOWN with the reason and deadlineMs = now + shutdown timeout, and reports a clean exit", async () => {
      const lambda = await start({}, { shutdownTimeoutMs: 1500 });
      await lambda.invoke();
      const before = Date.now();
      const result = await lambda.shutdown("spindown");
      const shutdown = records().find((r) => r.kind === "event" && r.event!.eventType === "SHUTDOWN")!.event!;
      expect(Object.keys(shutdown).sort()).to.deep.equal(["deadlineMs", "eventType", "shutdownReason"]);
      expect(shutdown.shutdownReason).to.equal("spindown");
      expect(shutdown.deadlineMs).to.be.within(before + 1500, Date.now() + 1500);
      expect(result).to.include({ exitCode: 0, signal: null, killed: false });
    });

    it("SIGKILLs an extension that ignores SHUTDOWN at the deadline", async () => {
      const lambda = await start({ ECHO_IGNORE_SHUTDOWN: "1" }, { shutdownTimeoutMs: 300 });
      const result = await lambda.shutdown();
      expect(result).to.include({ killed: true, signal: "SIGKILL", exitCode: null });
      expect(result.durationMs).to.be.at.least(300);
      expect(records().some((r) => r.kind === "event" && r.event!.eventType === "SHUTDOWN")).to.equal(true);
    });

    it("SIGKILLs at once an extension not registered for SHUTDOWN", async () => {
      const lambda = await start({ ECHO_EVENTS: "INVOKE" });
      const result = await lambda.shutdown();
      expect(result).to.include({ killed: true, signal: "SIGKILL" });
      expect(records().some((r) => r.kind === "event" && r.event!.eventType === "SHUTDOWN")).to.equal(false);
    });

    it("answers 403 to /event/next without a known Lambda-Extension-Identifier", async () => {
      const lambda = await start();
      const missing = await fetch(`http://${lambda.runtimeApi}/2020-01-01/extension/event/next`);
      expect(missing.status).to.equal(403);
      expect(await missing.json()).to.deep.include({ errorType: "Extension.MissingExtensionIdentifier" });
      const unknown = await fetch(`http://${lambda.runtimeApi}/2020-01-01/extension/event/next`, {
        headers: { "Lambda-Extension-Identifier": "00000000-0000-0000-0000-000000000000" },
      });
      expect(await unknown.json()).to.deep.include({ errorType: "Extension.UnknownExtensionIdentifier" });
    });
  });

  describe("telemetry delivery", () => {
    it("delivers Text-format function records as strings with their newline, JSON-format ones as objects", async () => {
      await start({ ECHO_TYPES: "function" }, { freeze: false });
      await emulator!.invoke({ logs: ["first line", "second\n"] });
      await waitForRecord((r) => r.kind === "telemetry");
      expect(received().map((e) => e.record)).to.deep.equal(["first line\n", "second\n"]);
      await emulator!.close();
      rmSync(outFile());

      await start({ ECHO_TYPES: "function" }, { freeze: false, logFormat: "JSON" });
      const object = { timestamp: "2026-01-01T00:00:00.000Z", level: "WARN", requestId: "r-1", message: "careful" };
      const { requestId } = await emulator!.invoke({ logs: [object, "plain"] });
      await waitForRecord((r) => r.kind === "telemetry");
      const delivered = received().map((e) => e.record) as Array<Record<string, unknown>>;
      expect(delivered[0]).to.deep.equal(object);
      expect(delivered[1]).to.include({ level: "INFO", requestId, message: "plain" });
      expect(received().every((e) => e.type === "function" && !Number.isNaN(Date.parse(e.time)))).to.equal(true);
    });

    it("batches by maxItems, and flushes what is left when the runtime's streams close at shutdown", async () => {
      const lambda = await start({ ECHO_TYPES: "function", ECHO_BUFFERING: JSON.stringify({ maxItems: 1000, maxBytes: 1048576, timeoutMs: 30000 }) }, { freeze: false });
      await lambda.invoke({ logs: Array.from({ length: 2500 }, (_, i) => `line ${i}`) });
      await waitForRecord(() => lambda.deliveries().length >= 2);
      expect(lambda.deliveries().map((d) => d.records)).to.deep.equal([1000, 1000]);
      await lambda.shutdown();
      expect(lambda.deliveries().map((d) => d.records)).to.deep.equal([1000, 1000, 500]);
    });

    it("batches by maxBytes: a batch is sent once its events' JSON reaches maxBytes", async () => {
      const lambda = await start({ ECHO_TYPES: "function", ECHO_BUFFERING: JSON.stringify({ maxItems: 10000, maxBytes: 262144, timeoutMs: 30000 }) }, { freeze: false });
      const line = "x".repeat(999);
      // Every event serialises to the same size: the time is always 24 characters.
      const eventBytes = JSON.stringify({ time: new Date().toISOString(), type: "function", record: `${line}\n` }).length;
      const perBatch = Math.ceil(262144 / eventBytes);
      await lambda.invoke({ logs: Array.from({ length: perBatch * 2 + 10 }, () => line) });
      await waitForRecord(() => lambda.deliveries().length >= 2);
      expect(lambda.deliveries().map((d) => d.records)).to.deep.equal([perBatch, perBatch]);
    });

    it("drops the oldest waiting batches when the listener keeps failing, and says so in platform.logsDropped", async () => {
      const lambda = await start(
        { ECHO_TYPES: "function", ECHO_FAIL_FIRST: "1000000", ECHO_BUFFERING: JSON.stringify({ maxItems: 1000, maxBytes: 1048576, timeoutMs: 30000 }) },
        // Room for two batches of 1000 such events (about 75 KB each), not three.
        { freeze: false, telemetry: { maxQueuedBytes: 200000, retryBaseMs: 1000 } },
      );
      await lambda.invoke({ logs: Array.from({ length: 5000 }, (_, i) => `line ${i}`) });
      const dropped = lambda.telemetry().filter((e) => e.type === "platform.logsDropped");
      // Five batches of 1000: the one being sent and the newest waiting one are kept.
      expect(dropped.map((e) => (e.record as { droppedRecords: number }).droppedRecords)).to.deep.equal([1000, 1000, 1000]);
      expect(dropped[0].record).to.have.property("reason").that.includes("fallen behind");
      expect(dropped[0].record).to.have.property("droppedBytes").that.is.above(1000 * 30);
    });

    it("batches by timeoutMs: records of one invocation arrive together after the buffering timeout", async () => {
      const lambda = await start({ ECHO_TYPES: "function", ECHO_BUFFERING: JSON.stringify({ maxItems: 1000, maxBytes: 262144, timeoutMs: 300 }) }, { freeze: false });
      await lambda.invoke({ logs: ["a", "b", "c"], durationMs: 50 });
      const batch = await waitForRecord((r) => r.kind === "telemetry");
      expect(batch.events!.map((e) => e.record)).to.deep.equal(["a\n", "b\n", "c\n"]);
      expect(batch.at - Date.parse(batch.events![0].time)).to.be.at.least(290);
    });

    it("subscribers see platform.start, platform.runtimeDone with metrics, and the init events replayed", async () => {
      const lambda = await start({ ECHO_WAIT_RUNTIME_DONE: "1" });
      const { requestId } = await lambda.invoke({ logs: ["hello"], durationMs: 20 });
      const types = received().map((e) => e.type);
      expect(types.slice(0, 3)).to.deep.equal(["platform.initStart", "platform.extension", "platform.telemetrySubscription"]);
      const runtimeDone = received().find((e) => e.type === "platform.runtimeDone")!.record as Record<string, unknown>;
      expect(runtimeDone).to.include({ requestId, status: "success" });
      expect(runtimeDone.metrics).to.include({ producedBytes: 6 });
      expect((runtimeDone.metrics as { durationMs: number }).durationMs).to.be.at.least(20);
      expect(received().find((e) => e.type === "platform.start")!.record).to.include({ requestId, version: "$LATEST" });
    });

    it("delivers platform.report late: after the extension's next /event/next, with the next invocation", async () => {
      const lambda = await start({ ECHO_WAIT_RUNTIME_DONE: "1" });
      const first = await lambda.invoke();
      const reportOf = (id: string) => received().find((e) => e.type === "platform.report" && (e.record as { requestId: string }).requestId === id);
      // The environment is frozen now; give a buffering timeout (25 ms) several times over.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(lambda.isFrozen).to.equal(true);
      expect(reportOf(first.requestId)).to.equal(undefined);
      await lambda.invoke();
      await waitForRecord(() => reportOf(first.requestId) !== undefined);
      const report = reportOf(first.requestId)!.record as { status: string; metrics: Record<string, number> };
      expect(report.status).to.equal("success");
      expect(report.metrics).to.include({ memorySizeMB: 128 });
      expect(report.metrics).to.have.property("initDurationMs");
      expect(report.metrics.billedDurationMs).to.be.at.least(report.metrics.durationMs);
    });

    it("freezes the process between invocations and delivers what came meanwhile after SIGCONT", async () => {
      const lambda = await start({ ECHO_TYPES: "platform", ECHO_WAIT_RUNTIME_DONE: "1" });
      const first = await lambda.invoke();
      const stateOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1][0];
      expect(stateOf(lambda.pid!)).to.equal("T");
      const postsBefore = lambda.deliveries().length;
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(lambda.deliveries().length, "no POST while frozen").to.equal(postsBefore);
      const thawedAt = Date.now();
      await lambda.invoke();
      expect(stateOf(lambda.pid!)).to.equal("T");
      // The first report was produced while frozen and reached the listener after the thaw, before
      // the second invocation's runtimeDone (one POST at a time, in order).
      const batch = records().find(
        (r) => r.kind === "telemetry" && r.status === 200 && r.events!.some((e) => e.type === "platform.report" && (e.record as { requestId: string }).requestId === first.requestId),
      );
      expect(batch, "the first report was delivered").not.to.equal(undefined);
      expect(batch!.at).to.be.at.least(thawedAt);
    });

    it("retries a POST the listener answered with 500 until it is accepted, in order", async () => {
      const lambda = await start({ ECHO_TYPES: "function", ECHO_FAIL_FIRST: "2" }, { freeze: false, telemetry: { retryBaseMs: 20 } });
      await lambda.invoke({ logs: ["one", "two"] });
      await waitForRecord(() => lambda.deliveries().length === 3);
      expect(lambda.deliveries().map((d) => d.status)).to.deep.equal([500, 500, 200]);
      expect(received().map((e) => e.record)).to.deep.equal(["one\n", "two\n"]);
    });

    it("retries when nothing listens yet (connection refused), then delivers", async () => {
      const lambda = await start({ ECHO_TYPES: "function", ECHO_LISTEN_DELAY_MS: "400" }, { freeze: false, telemetry: { retryBaseMs: 50, retryMaxMs: 100 } });
      await lambda.invoke({ logs: ["early"] });
      await waitForRecord(() => lambda.deliveries().some((d) => d.status === 200));
      const statuses = lambda.deliveries().map((d) => d.status);
      expect(statuses[0]).to.equal(0);
      expect(statuses[statuses.length - 1]).to.equal(200);
      expect(lambda.deliveries()[0].error).to.match(/ECONNREFUSED/);
    });

    it("posts a raw body to the listener on request (a malformed POST), frozen or not", async () => {
      const lambda = await start({ ECHO_WAIT_RUNTIME_DONE: "1" });
      await lambda.invoke();
      expect(lambda.isFrozen).to.equal(true);
      const answer = await lambda.postRawTelemetry("[{not json");
      expect(answer).to.deep.equal({ status: 400, body: "not JSON" });
      expect(records().find((r) => r.kind === "telemetry" && r.status === 400)).to.deep.include({ raw: "[{not json" });
      expect(lambda.isFrozen).to.equal(true);
      // The regular delivery goes on (the fixture waits for runtimeDone, which comes after the line).
      await lambda.invoke({ logs: ["after"] });
      expect(received().some((e) => e.record === "after\n")).to.equal(true);
    });

    it("turns the extension's output lines into extension records", async () => {
      const lambda = await start({ ECHO_TYPES: "extension", ECHO_PRINT: "1" }, { freeze: false });
      await lambda.invoke();
      await waitForRecord(() => received().some((e) => e.record === "echo-extension got INVOKE\n"));
      expect(lambda.stdout()).to.include("echo-extension got INVOKE\n");
      expect(received().every((e) => e.type === "extension")).to.equal(true);
    });
  });

  describe("invocation bounds", () => {
    it("times out an invocation at its deadline and resets the environment (SHUTDOWN reason timeout)", async () => {
      const lambda = await start({}, { timeoutMs: 300, shutdownTimeoutMs: 2000 });
      const result = await lambda.invoke({ status: "timeout" });
      expect(result.timedOut).to.equal(true);
      expect(result.reset).to.include({ killed: false, exitCode: 0 });
      const shutdown = records().find((r) => r.kind === "event" && r.event!.eventType === "SHUTDOWN")!.event!;
      expect(shutdown.shutdownReason).to.equal("timeout");
      const report = lambda.telemetry().find((e) => e.type === "platform.report")!.record;
      expect(report).to.include({ status: "timeout" });
    });

    it("close() is safe after a failure, twice, and kills a frozen process", async () => {
      const lambda = await start();
      await lambda.invoke();
      const pid = lambda.pid!;
      await lambda.close();
      await lambda.close();
      expect(() => process.kill(pid, 0)).to.throw();
      const missing = await LambdaEmulator.start({ executable: path.join(dir, "missing-extension") });
      expect(missing.startFailure).to.include("could not start");
      await missing.close();
      await missing.close();
    });
  });
});
