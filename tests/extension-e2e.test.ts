/**
 * The telemetry extension as Lambda runs it: the layer built by scripts/build-extension.ts,
 * spawned by the local Lambda emulator (Extensions API, Telemetry API, freezing between
 * invocations, SIGKILL at the SHUTDOWN deadline), pushing to the local Loki receiver.
 */
import { expect } from "chai";
import { EXTENSION_NAME } from "../scripts/build-extension";
import { AwsJsonServer } from "./support/aws-json-server";
import { useExtensionHarness } from "./support/extension-harness";
import type { EmulatorOptions, LambdaEmulator } from "./support/lambda-emulator";
import { countEntries, parseLabels, type ReceivedEntry } from "./support/loki-receiver";

describe("telemetry extension under the Lambda emulator", function () {
  // Spawning node takes up to a second on a loaded machine; every wait below is bounded.
  this.timeout(30000);
  const harness = useExtensionHarness();
  const loki = harness.loki;

  const start = (env: Record<string, string> = {}, options: Partial<EmulatorOptions> = {}) =>
    harness.start({ env, functionName: "orders", accountId: "210987654321", ...options });
  /** Every entry Loki stored, with its stream's labels. */
  const stored = (): (ReceivedEntry & { labels: Record<string, string> })[] =>
    loki.acceptedPushes().flatMap((push) => push.streams.flatMap((stream) => stream.entries.map((e) => ({ ...e, labels: parseLabels(stream.labels) }))));
  const storedLines = () => stored().map((e) => e.line);
  const summary = (l: LambdaEmulator) => {
    const line = l.stdout().split("\n").find((text) => text.includes('"extension summary"'));
    return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
  };

  it("registers under its file name, subscribes as the Telemetry API requires, on a listener it bound", async () => {
    const l = await start();
    expect(l.registration).to.deep.include({ name: EXTENSION_NAME, events: ["INVOKE", "SHUTDOWN"], acceptFeature: "accountId" });
    const subscription = l.subscription as { schemaVersion: string; types: string[]; destination: { protocol: string; URI: string }; buffering: Record<string, number> };
    expect(subscription.schemaVersion).to.equal("2022-12-13");
    expect(subscription.types).to.have.members(["platform", "function"]);
    expect(subscription.destination.protocol).to.equal("HTTP");
    expect(new URL(subscription.destination.URI).hostname).to.equal("127.0.0.1", "sandbox.localdomain does not resolve here");
    expect(Number(new URL(subscription.destination.URI).port)).to.not.equal(9001);
    expect(subscription.buffering).to.deep.equal({ maxItems: 1000, maxBytes: 262144, timeoutMs: 25 });
  });

  it("text log format: pushes an invocation's lines before the environment freezes, stamped with the records' time", async () => {
    const l = await start({ LOKI_STRUCTURED_METADATA: "lambda_request_id" });
    const { requestId } = await l.invoke({ logs: ["2024-01-01T00:00:00.000Z\tabc\tINFO\tfirst line\n", "second line"], durationMs: 20 });
    // invoke() resolves once the extension asked for the next event: the environment is frozen now.
    const lines = stored().filter((e) => !/^(START|END|REPORT|INIT_|EXTENSION|TELEMETRY)/.test(e.line));
    expect(lines.map((e) => e.line)).to.deep.equal(["2024-01-01T00:00:00.000Z\tabc\tINFO\tfirst line", "second line"]);
    const times = l.telemetry().filter((e) => e.type === "function").map((e) => Date.parse(e.time));
    expect(lines.map((e) => Math.floor((e.sec * 1000 + e.nsec / 1e6)))).to.deep.equal(times);
    expect(lines[0].labels).to.deep.equal({
      __aws_log_type: "telemetry",
      __aws_cloudwatch_log_group: "/aws/lambda/orders",
      __aws_cloudwatch_owner: "210987654321",
      __aws_lambda_function_name: "orders",
      __aws_lambda_function_version: "$LATEST",
    });
    expect(lines.every((e) => e.metadata.lambda_request_id === requestId)).to.equal(true);
    expect(storedLines()).to.include(`START RequestId: ${requestId} Version: $LATEST`);
    expect(storedLines()).to.include(`END RequestId: ${requestId}`);
    // The REPORT line comes after the freeze: it is delivered with the next invocation or at SHUTDOWN.
    await l.shutdown();
    expect(storedLines().some((line) => line.startsWith(`REPORT RequestId: ${requestId}\tDuration: `))).to.equal(true);
    expect(countEntries(loki.acceptedPushes()).duplicates).to.equal(0);
  });

  it("JSON log format: ships each record's JSON, with its level and request id as structured metadata", async () => {
    const l = await start({ LOKI_STRUCTURED_METADATA: "lambda_request_id,level", LOKI_TELEMETRY_TYPES: "function", LOKI_LOG_GROUP_NAME: "/custom/orders" }, { logFormat: "JSON" });
    const { requestId } = await l.invoke({ logs: [{ timestamp: "2024-01-01T00:00:00.000Z", level: "ERROR", requestId: "req-in-record", message: "boom", code: 7 }, "plain"] });
    const entries = stored();
    expect(entries).to.have.length(2);
    expect(JSON.parse(entries[0].line)).to.deep.equal({ timestamp: "2024-01-01T00:00:00.000Z", level: "ERROR", requestId: "req-in-record", message: "boom", code: 7 });
    expect(entries[0].metadata).to.deep.equal({ lambda_request_id: "req-in-record", level: "ERROR" });
    expect(JSON.parse(entries[1].line)).to.deep.include({ level: "INFO", requestId, message: "plain" });
    expect(entries[0].labels.__aws_cloudwatch_log_group).to.equal("/custom/orders");
  });

  for (const [action, expected, counted] of [
    ["truncate", ["short", "€".repeat(341)], { truncatedLines: 1, droppedLongLines: 0 }],
    ["drop", ["short"], { truncatedLines: 0, droppedLongLines: 1 }],
  ] as const) {
    it(`a function line above LOKI_MAX_LINE_SIZE (UTF-8 bytes) is handled by LOKI_MAX_LINE_SIZE_ACTION=${action}, counted in the summary`, async () => {
      const l = await start({ LOKI_MAX_LINE_SIZE: "1KB", LOKI_MAX_LINE_SIZE_ACTION: action, LOKI_TELEMETRY_TYPES: "function" });
      await l.invoke({ logs: ["short", "€".repeat(400)] });
      await l.shutdown();
      expect(storedLines()).to.deep.equal(expected);
      expect(summary(l)).to.include(counted);
    });
  }

  it("LOKI_MAX_LINE_SIZE_ACTION=split: the pieces of a line a tenant stage routed go to that tenant, in order", async () => {
    const l = await start({
      LOKI_MAX_LINE_SIZE: "1KB",
      LOKI_MAX_LINE_SIZE_ACTION: "split",
      LOKI_TELEMETRY_TYPES: "function",
      LOKI_STAGE_CONFIGS: JSON.stringify([{ tenant: { value: "team-a" } }]),
    });
    await l.invoke({ logs: ["short", "€".repeat(400)] });
    await l.shutdown();
    const pushed = loki.acceptedPushes().flatMap((push) => push.streams.flatMap((stream) => stream.entries.map((e) => ({ tenant: push.tenant, line: e.line }))));
    // 400 three-byte characters in pieces of at most 1024 bytes: 341 + 59, cut between characters.
    expect(pushed).to.deep.equal([
      { tenant: "team-a", line: "short" },
      { tenant: "team-a", line: "€".repeat(341) },
      { tenant: "team-a", line: "€".repeat(59) },
    ]);
    expect(summary(l)).to.include({ splitLines: 1 });
  });

  // Promtail's reserved label: the relabel rules and stages of the extension pick the tenant as the shipper's do.
  const fromFunctionName = (replacement: string) => JSON.stringify([{ source_labels: ["__aws_lambda_function_name"], target_label: "__tenant_id__", replacement }]);
  for (const [what, env, expected, dropped] of [
    ["LOKI_RELABEL_CONFIGS setting __tenant_id__ picks the tenant of every line, over LOKI_TENANT_ID",
      { LOKI_RELABEL_CONFIGS: fromFunctionName("team-$1") }, [{ tenant: "team-orders", line: "a" }, { tenant: "team-orders", line: "b" }], undefined],
    ["a tenant stage overrides it where it finds a tenant",
      { LOKI_RELABEL_CONFIGS: fromFunctionName("team-$1"), LOKI_STAGE_CONFIGS: JSON.stringify([{ match: { selector: '{__aws_log_type="telemetry"} |= "b"', stages: [{ tenant: { value: "bees" } }] } }]) },
      [{ tenant: "team-orders", line: "a" }, { tenant: "bees", line: "b" }], undefined],
    ["a relabeled __tenant_id__ Loki would refuse drops the lines (invalid_tenant) instead of sending them to LOKI_TENANT_ID",
      { LOKI_RELABEL_CONFIGS: fromFunctionName("$1|x") }, [], { invalid_tenant: 2 }],
  ] as const) {
    it(what, async () => {
      const l = await start({ LOKI_TELEMETRY_TYPES: "function", LOKI_TENANT_ID: "base", ...env });
      await l.invoke({ logs: ["a", "b"] });
      await l.shutdown();
      const pushes = loki.acceptedPushes();
      expect(pushes.flatMap((push) => push.streams.flatMap((stream) => stream.entries.map((e) => ({ tenant: push.tenant, line: e.line }))))).to.deep.equal(expected);
      expect(pushes.flatMap((push) => push.streams.map((stream) => stream.labels)).filter((labels) => labels.includes("__tenant_id__"))).to.deep.equal([]);
      expect(summary(l)?.stageDropped).to.deep.equal(dropped ?? {});
    });
  }

  it("Loki down, then back: keeps the lines, delivers them at a later invocation, nothing lost, nothing duplicated", async () => {
    const l = await start({ LOKI_TELEMETRY_TYPES: "function", LOKI_FLUSH_TIMEOUT_MS: "300" });
    loki.respondWith(...Array<number>(200).fill(503));
    const first = await l.invoke({ logs: ["down 1", "down 2"] });
    expect(first.timedOut).to.equal(false);
    expect(first.postRuntimeMs).to.be.below(3000);
    expect(storedLines()).to.deep.equal([]);
    loki.reset(); // Loki is back
    await l.invoke({ logs: ["up 1"] });
    expect(storedLines().sort()).to.deep.equal(["down 1", "down 2", "up 1"]);
    await l.shutdown();
    expect(countEntries(loki.acceptedPushes()).duplicates).to.equal(0);
    expect(summary(l)).to.deep.include({ delivered: 3, droppedPastBound: 0 });
  });

  it("a loud invocation (more lines than LOKI_MAX_HELD_BYTES before its end) with Loki healthy: pushes while it runs, loses nothing", async () => {
    const l = await start({ LOKI_TELEMETRY_TYPES: "function", LOKI_MAX_HELD_BYTES: "1048576" }, { timeoutMs: 30_000 });
    // The function runs for a while and logs 2.4 MB meanwhile, as Lambda delivers it: one POST
    // of 100 KB every 100 ms (the extension is thawed while the function runs).
    const invoking = l.invoke({ logs: [], durationMs: 4000 });
    const expected: string[] = [];
    for (let post = 0; post < 24; post++) {
      const lines = Array.from({ length: 10 }, (_, i) => `${post}-${i} ${"x".repeat(10_000)}`);
      expected.push(...lines);
      const events = lines.map((record) => ({ time: new Date().toISOString(), type: "function", record: `${record}\n` }));
      expect((await l.postRawTelemetry(JSON.stringify(events))).status).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await invoking).timedOut).to.equal(false);
    await l.shutdown();
    expect(summary(l)).to.deep.include({ droppedPastBound: 0 });
    expect(storedLines().filter((line) => line.length > 10_000).sort()).to.deep.equal(expected.sort());
  });

  // Loki failing (an error status) or hanging (it reads the push and never answers): either way
  // nothing is stored, and each later invocation makes one short attempt, not LOKI_FLUSH_TIMEOUT_MS of them.
  const unavailable: { what: string; answers: () => Parameters<typeof loki.respondWith> }[] = [
    { what: "failing (503)", answers: () => Array<number>(1000).fill(503) },
    { what: "hanging", answers: () => Array.from({ length: 1000 }, () => ({ status: 0, hang: true })) },
  ];
  for (const { what, answers } of unavailable) {
    it(`Loki ${what} for a while: after the first invocation's full LOKI_FLUSH_TIMEOUT_MS stored nothing, each invocation makes one short attempt instead, and nothing is lost when Loki answers again`, async () => {
      const l = await start({ LOKI_TELEMETRY_TYPES: "function", LOKI_FLUSH_TIMEOUT_MS: "2000" });
      loki.respondWith(...answers());
      const first = await l.invoke({ logs: ["down 0"] });
      expect(first.postRuntimeMs, "the first push that stores nothing uses LOKI_FLUSH_TIMEOUT_MS").to.be.at.least(1500);
      const later: number[] = [];
      for (let i = 1; i <= 4; i++) later.push((await l.invoke({ logs: [`down ${i}`] })).postRuntimeMs);
      expect(Math.max(...later), `post-runtime times while Loki is ${what}: ${later.join(", ")} ms`).to.be.below(1000);
      expect(storedLines()).to.deep.equal([]);
      loki.reset(); // Loki answers again
      await l.invoke({ logs: ["up"] });
      await l.invoke({ logs: ["up again"] });
      await l.shutdown();
      expect(storedLines().sort()).to.deep.equal(["down 0", "down 1", "down 2", "down 3", "down 4", "up", "up again"]);
      expect(countEntries(loki.acceptedPushes()).duplicates).to.equal(0);
    });
  }

  it("Loki refusing the credentials (401): the lines are kept, and each flush logs an error with the status and the fix, not a warning", async () => {
    const l = await start({ LOKI_TELEMETRY_TYPES: "function" });
    loki.respondWith(...Array<number>(20).fill(401));
    await l.invoke({ logs: ["refused"] });
    const lines = l.stderr().split("\n").filter((line) => line.includes("lines kept for a later push")).map((line) => JSON.parse(line) as { level: string; reason: string });
    expect(lines).to.have.length(1, l.stderr());
    expect(lines[0].level).to.equal("ERROR");
    expect(lines[0].reason).to.match(/HTTP 401/);
    loki.reset();
    await l.shutdown();
    expect(storedLines()).to.deep.equal(["refused"]);
  });

  it("answers a malformed telemetry POST with 400 and keeps shipping the valid ones", async () => {
    // Not frozen between invocations, so that the test can POST to the listener.
    const l = await start({ LOKI_TELEMETRY_TYPES: "function" }, { freeze: false });
    const uri = (l.subscription as { destination: { URI: string } }).destination.URI;
    const response = await fetch(uri, { method: "POST", body: '{"not":"an array"', headers: { "Content-Type": "application/json" } });
    expect(response.status).to.equal(400);
    await l.invoke({ logs: ["still shipped"] });
    expect(storedLines()).to.deep.equal(["still shipped"]);
    await l.shutdown();
    expect(summary(l)).to.deep.include({ malformedPosts: 1 });
    expect(l.stderr()).to.include("malformed telemetry POST answered 400");
  });

  it("a telemetry POST holding null, numbers, strings or arrays among its events: those are counted as invalid, the others shipped, and the extension keeps running", async () => {
    const l = await start({ LOKI_TELEMETRY_TYPES: "function" }, { freeze: false });
    const valid = { time: new Date().toISOString(), type: "function", record: "beside the odd ones\n" };
    const answer = await l.postRawTelemetry(JSON.stringify([null, valid, 7, "text", [valid]]));
    expect(answer.status).to.equal(200);
    await l.invoke({ logs: ["next invocation"] });
    const result = await l.shutdown();
    expect(result.exitCode, l.stderr()).to.equal(0);
    expect(storedLines().sort()).to.deep.equal(["beside the odd ones", "next invocation"]);
    expect(summary(l)).to.deep.include({ invalidEvents: 4, delivered: 2 });
    expect(l.stderr()).to.include("an event must be a JSON object, got null");
  });

  it("bad settings: one error line with the validator's message at init, then the function runs as usual and nothing is shipped", async () => {
    const lambda = await harness.launch({ env: { LOKI_WRITE_ADDRESS: loki.url, LOKI_BATCH_SIZE: "128k" } });
    expect(lambda.startFailure, "the function's init does not fail").to.equal(undefined);
    expect(lambda.initError).to.equal(undefined);
    const errors = lambda.stderr().split("\n").filter((line) => line.includes('"level":"ERROR"'));
    expect(errors).to.have.length(1, lambda.stderr());
    expect(JSON.parse(errors[0])).to.deep.include({ error: 'LOKI_BATCH_SIZE: "128k" is out of range. Accepted form: a whole number of bytes from 1 to 67108864' });
    expect(lambda.subscription, "no telemetry subscription").to.equal(undefined);
    for (let i = 0; i < 3; i++) {
      const invoked = await lambda.invoke({ logs: [`still running ${i}`] });
      expect(invoked.timedOut).to.equal(false);
      expect(invoked.postRuntimeMs).to.be.below(1000);
    }
    const result = await lambda.shutdown();
    expect(result).to.deep.include({ killed: false, exitCode: 0 });
    expect(loki.requests).to.have.length(0);
  });

  it("reads a credential given as an SSM parameter ARN (the layer's separate secrets file); when it cannot, says so in one error line and the function runs as usual", async () => {
    const parameterArn = "arn:aws:ssm:eu-west-1:123456789012:parameter/loki/token";
    const ssm = new AwsJsonServer({
      "AmazonSSM.GetParameter": (body) => body.Name === parameterArn
        ? { status: 200, body: { Parameter: { Name: "/loki/token", Type: "SecureString", Value: "token-from-ssm", Version: 1, ARN: parameterArn } } }
        : { status: 400, body: { __type: "ParameterNotFound", message: "not found" }, errorType: "ParameterNotFound" },
    });
    const endpoint = await ssm.start();
    try {
      const l = await start({ LOKI_BEARER_TOKEN: parameterArn, AWS_ENDPOINT_URL_SSM: endpoint, LOKI_TELEMETRY_TYPES: "function" });
      await l.invoke({ logs: ["authorised"] });
      expect(loki.requests.map((r) => r.headers.authorization)).to.deep.equal(["Bearer token-from-ssm"]);
      await l.close();
      loki.reset();
      const lambda = await harness.launch({ env: { LOKI_WRITE_ADDRESS: loki.url, LOKI_BEARER_TOKEN: `${parameterArn}-missing`, AWS_ENDPOINT_URL_SSM: endpoint } });
      expect(lambda.startFailure, "the function's init does not fail").to.equal(undefined);
      expect(lambda.initError).to.equal(undefined);
      const errors = lambda.stderr().split("\n").filter((line) => line.includes('"level":"ERROR"'));
      expect(errors).to.have.length(1, lambda.stderr());
      expect(JSON.parse(errors[0]).message).to.equal("could not read the Loki credentials: the extension ships nothing from this execution environment, and the function runs as usual");
      expect(JSON.parse(errors[0]).error).to.match(/^LOKI_BEARER_TOKEN: could not read arn:aws:ssm:eu-west-1:123456789012:parameter\/loki\/token-missing/);
      const invoked = await lambda.invoke({ logs: ["not shipped"] });
      expect(invoked.timedOut).to.equal(false);
      expect((await lambda.shutdown()).exitCode).to.equal(0);
      expect(loki.requests).to.have.length(0);
    } finally {
      await ssm.stop();
    }
  });

  it("SHUTDOWN: pushes what is held and exits before the deadline; what cannot be delivered is reported in one error line", async () => {
    const l = await start({ LOKI_TELEMETRY_TYPES: "function", LOKI_FLUSH_TIMEOUT_MS: "200" }, { shutdownTimeoutMs: 2000 });
    loki.respondWith(...Array<number>(1000).fill(503));
    await l.invoke({ logs: ["never 1", "never 2", "never 3"] });
    const result = await l.shutdown();
    expect(result.killed).to.equal(false, l.stdout());
    expect(result.exitCode).to.equal(0);
    expect(result.durationMs).to.be.below(2000);
    // Powertools Logger writes warnings and errors to stderr; Lambda sends both to the log group.
    const errors = l.stderr().split("\n").filter((line) => line.includes('"lines that never reached Loki"'));
    expect(errors).to.have.length(1, l.stderr());
    expect(JSON.parse(errors[0])).to.deep.include({ level: "ERROR", undeliveredAtShutdown: 3, droppedPastMemoryBound: 0 });
  });

  it("SHUTDOWN while a background push hangs on Loki: cuts it off, exits before the deadline, reports the lines as lost at SHUTDOWN", async () => {
    // A function with a long timeout and a long LOKI_FLUSH_TIMEOUT_MS: a background push may run
    // for a minute, but SHUTDOWN gives the extension 2 s.
    const l = await start(
      { LOKI_TELEMETRY_TYPES: "function", LOKI_BUSY_RATE: "2", LOKI_FLUSH_INTERVAL_MS: "100", LOKI_FLUSH_TIMEOUT_MS: "60000" },
      { timeoutMs: 120_000, shutdownTimeoutMs: 2000, freeze: false },
    );
    for (let i = 0; i < 6; i++) await l.invoke({ logs: [`early ${i}`], durationMs: 5 });
    for (let i = 0; i < 100 && storedLines().length < 6; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(storedLines().sort()).to.deep.equal([0, 1, 2, 3, 4, 5].map((i) => `early ${i}`));
    // Loki now hangs: it reads every push and never answers.
    loki.respondWith(...Array.from({ length: 50 }, () => ({ status: 0, hang: true })));
    const invoked = await l.invoke({ logs: ["late 1", "late 2"], durationMs: 5 });
    expect(invoked.postRuntimeMs, "the background regime does not hold the invocation open").to.be.below(1000);
    const hanging = () => loki.received.filter((push) => push.status === 0).length;
    for (let i = 0; i < 200 && hanging() < 1; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(hanging(), "a background push is hanging on Loki").to.equal(1);
    const result = await l.shutdown();
    expect(result.killed, l.stderr()).to.equal(false);
    expect(result.exitCode).to.equal(0);
    expect(result.durationMs).to.be.below(2000);
    // The receiver sees the socket close an instant after the process ends, not before.
    for (let i = 0; i < 50 && loki.hangsClosedByClient < 1; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(loki.hangsClosedByClient, "the hanging request was closed").to.be.at.least(1);
    const errors = l.stderr().split("\n").filter((line) => line.includes('"lines that never reached Loki"'));
    expect(errors).to.have.length(1, l.stderr());
    expect(JSON.parse(errors[0])).to.deep.include({ level: "ERROR", undeliveredAtShutdown: 2, droppedPastMemoryBound: 0 });
    const lastMetrics = l.stdout().split("\n").filter((line) => line.startsWith('{"_aws":')).at(-1);
    expect(JSON.parse(lastMetrics!)).to.include({ EntriesLostAtShutdown: 2 });
    expect(summary(l)).to.deep.include({ delivered: 6 });
  });

  it("busy function: pushes in the background without holding invocations open, and delivers everything by SHUTDOWN", async () => {
    const l = await start({ LOKI_TELEMETRY_TYPES: "function", LOKI_BUSY_RATE: "2", LOKI_FLUSH_INTERVAL_MS: "200" });
    const expected: string[] = [];
    const post: number[] = [];
    for (let i = 0; i < 12; i++) {
      const logs = [`busy ${i} a`, `busy ${i} b`];
      expected.push(...logs);
      post.push((await l.invoke({ logs, durationMs: 5 })).postRuntimeMs);
    }
    const result = await l.shutdown();
    expect(result.killed).to.equal(false);
    expect(storedLines().sort()).to.deep.equal(expected.sort());
    expect(countEntries(loki.acceptedPushes()).duplicates).to.equal(0);
    const s = summary(l)!;
    expect(s.backgroundInvocations as number).to.be.at.least(6);
  });
});
