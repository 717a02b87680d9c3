/**
 * The telemetry extension's own metrics (LOKI_METRICS): embedded-metric-format lines on its
 * stdout, read as CloudWatch Logs reads them (tests/support/emf.ts). First the line-writing rules
 * on their own, then the built layer under the Lambda emulator, pushing to the local Loki receiver.
 */
import { expect } from "chai";
import { TELEMETRY_METRICS } from "../handler/metrics";
import { ExtensionMetrics, zeroTotals } from "../extension/metrics";
import { type EmfRecord, parseEmf, valueOf } from "./support/emf";
import { useExtensionHarness } from "./support/extension-harness";
import type { EmulatorOptions, LambdaEmulator } from "./support/lambda-emulator";

const FUNCTION_NAME = "orders";

/** The metrics and units of the extension's lines: a change to either must show up here. */
const UNITS: Record<string, string> = {
  Records: "Count", RecordsFailed: "Count", EntriesShipped: "Count", EntriesRejected: "Count", EntriesDropped: "Count",
  BytesShipped: "Bytes", Pushes: "Count", PushRetries: "Count", PushSplits: "Count",
  DeliveryLagNewest: "Milliseconds", DeliveryLagOldest: "Milliseconds",
  EntriesLost: "Count", EntriesLostAtShutdown: "Count", TelemetryDroppedRecords: "Count", TelemetryDroppedBytes: "Bytes",
};
const WITHOUT_LAG = Object.keys(UNITS).filter((name) => !name.startsWith("DeliveryLag"));

/** Parses a line as CloudWatch does and checks what every line must carry: namespace, dimensions, units, one value each. */
function checked(line: string, names: string[], namespace = "LambdaPromtail"): EmfRecord {
  const record = parseEmf(line);
  expect(record.data.map((d) => d.name)).to.have.members(names);
  for (const datum of record.data) {
    expect(datum.namespace).to.equal(namespace);
    expect(datum.dimensions, "low-cardinality dimensions only").to.deep.equal({ service: FUNCTION_NAME, source_kind: "telemetry" });
    expect(datum.unit, datum.name).to.equal(UNITS[datum.name]);
    expect(datum.values, datum.name).to.have.length(1);
  }
  return record;
}

const figures = (record: EmfRecord) => Object.fromEntries(record.data.map((d) => [d.name, d.values[0]]));

describe("telemetry extension metrics: the lines", () => {
  const written: string[] = [];
  const make = (namespace = "LambdaPromtail", functionName = FUNCTION_NAME) => new ExtensionMetrics({ namespace, functionName, write: (line) => written.push(line) });
  beforeEach(() => (written.length = 0));

  it("publishes the shipper's metric set plus the extension's own, under source_kind=telemetry", () => {
    expect(TELEMETRY_METRICS.map((m) => m.name)).to.deep.equal(Object.keys(UNITS));
    const metrics = make();
    const totals = { ...zeroTotals(), records: 7, entries: 7, failedRecords: 1, shipped: 5, bytes: 900, pushes: 3, retries: 1, splits: 1, rejected: 1, dropped: 1, stageDropped: { healthz: 2 }, droppedLongLines: 1, lostPastMemoryBound: 4, lambdaDroppedRecords: 6, lambdaDroppedBytes: 600 };
    expect(metrics.publish(totals, { lagNewestMs: 40, lagOldestMs: 90 })).to.equal(true);
    expect(written).to.have.length(1);
    expect(figures(checked(written[0], Object.keys(UNITS)))).to.deep.equal({
      Records: 7, RecordsFailed: 1, EntriesShipped: 5, EntriesRejected: 1, EntriesDropped: 4, BytesShipped: 900, Pushes: 3, PushRetries: 1, PushSplits: 1,
      DeliveryLagNewest: 40, DeliveryLagOldest: 90, EntriesLost: 4, EntriesLostAtShutdown: 0, TelemetryDroppedRecords: 6, TelemetryDroppedBytes: 600,
    });
  });

  it("each line carries what happened since the previous one; nothing happened, no line", () => {
    const metrics = make();
    const first = { ...zeroTotals(), records: 3, shipped: 3, pushes: 1, bytes: 100, stageDropped: { a: 1 } };
    metrics.publish(first, { lagNewestMs: 5, lagOldestMs: 6 });
    expect(metrics.publish(first, {}), "idle").to.equal(false);
    expect(metrics.publish({ ...first, stageDropped: { a: 1 } }, {}), "the same totals in a new object").to.equal(false);
    metrics.publish({ ...first, records: 5, shipped: 4, stageDropped: { a: 1, b: 1 } }, {});
    expect(written).to.have.length(2);
    const second = checked(written[1], WITHOUT_LAG);
    expect(figures(second)).to.include({ Records: 2, EntriesShipped: 1, Pushes: 0, BytesShipped: 0, EntriesDropped: 1 });
    // A lag alone (a resend acknowledged, nothing new counted) is still worth a line.
    expect(metrics.publish({ ...first, records: 5, shipped: 4, stageDropped: { a: 1, b: 1 } }, { lagNewestMs: 1, lagOldestMs: 1 })).to.equal(true);
  });

  it("recognises its own lines as Lambda hands them back as `extension` telemetry, and nothing else", () => {
    const metrics = make();
    metrics.publish({ ...zeroTotals(), records: 1 }, {});
    const own = written[0];
    expect(metrics.isOwnLine(`${own}\n`), "text line with its newline").to.equal(true);
    expect(metrics.isOwnLine(JSON.parse(own)), "parsed into an object").to.equal(true);
    const other = (namespace: string, functionName: string) => {
      written.length = 0;
      make(namespace, functionName).publish({ ...zeroTotals(), records: 1 }, {});
      return written[0];
    };
    expect(metrics.isOwnLine(other("Other", FUNCTION_NAME)), "another namespace").to.equal(false);
    expect(metrics.isOwnLine(other("LambdaPromtail", "payments")), "another function").to.equal(false);
    expect(metrics.isOwnLine(own.replace('"source_kind":"telemetry"', '"source_kind":"cloudwatch"')), "another source kind").to.equal(false);
    for (const line of ['{"_aws":', '{"_aws":{}}', "plain text", '{"level":"INFO","message":"extension summary"}', 42, null, ["x"]]) {
      expect(metrics.isOwnLine(line), JSON.stringify(line)).to.equal(false);
    }
  });
});

describe("telemetry extension metrics under the Lambda emulator", function () {
  // Spawning node takes up to a second on a loaded machine; every wait below is bounded.
  this.timeout(30000);
  const harness = useExtensionHarness();
  const loki = harness.loki;

  const start = (env: Record<string, string> = {}, options: Partial<EmulatorOptions> = {}) =>
    harness.start({ env: { LOKI_TELEMETRY_TYPES: "function", ...env }, functionName: FUNCTION_NAME, ...options });
  /** The EMF lines the extension wrote to stdout (the function's log group) so far. */
  const emfLines = (l: LambdaEmulator) => l.stdout().split("\n").filter((line) => line.startsWith('{"_aws":'));
  const storedLines = () => loki.acceptedPushes().flatMap((push) => push.streams.flatMap((s) => s.entries.map((e) => e.line)));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("a successful invocation: one line with what was shipped, the delivery lag, and no line while idle", async () => {
    const l = await start();
    const before = Date.now();
    await l.invoke({ logs: ["first", "second", "third"] });
    const after = Date.now();
    expect(storedLines()).to.deep.equal(["first", "second", "third"]);
    expect(emfLines(l)).to.have.length(1);
    const record = checked(emfLines(l)[0], Object.keys(UNITS));
    const bodyBytes = loki.acceptedPushes().length;
    expect(bodyBytes).to.equal(1);
    expect(figures(record)).to.deep.include({
      Records: 3, RecordsFailed: 0, EntriesShipped: 3, EntriesRejected: 0, EntriesDropped: 0, Pushes: loki.requests.length, PushRetries: 0, PushSplits: 0,
      EntriesLost: 0, EntriesLostAtShutdown: 0, TelemetryDroppedRecords: 0, TelemetryDroppedBytes: 0,
    });
    expect(valueOf(record, "BytesShipped")).to.be.above(3 * "first".length);
    // The lines were written during the invocation and acknowledged before it ended.
    for (const name of ["DeliveryLagNewest", "DeliveryLagOldest"]) expect(valueOf(record, name), name).to.be.within(0, after - before);
    expect(valueOf(record, "DeliveryLagNewest")).to.be.at.most(valueOf(record, "DeliveryLagOldest")!);
    // An invocation that logs nothing (platform lines are not shipped here) writes no line.
    await l.invoke({ logs: [] });
    expect(emfLines(l)).to.have.length(1);
    const result = await l.shutdown();
    expect(result.exitCode).to.equal(0);
    expect(emfLines(l), "nothing left to report at SHUTDOWN").to.have.length(1);
  });

  it("Loki failing: retries and the lines kept count as failed; the later delivery and the SHUTDOWN loss are counted", async () => {
    const l = await start({ LOKI_FLUSH_TIMEOUT_MS: "300" }, { shutdownTimeoutMs: 2000 });
    loki.respondWith(...Array<number>(200).fill(503));
    await l.invoke({ logs: ["down 1", "down 2"] });
    const failed = checked(emfLines(l)[0], WITHOUT_LAG);
    expect(figures(failed)).to.include({ Records: 2, RecordsFailed: 2, EntriesShipped: 0, BytesShipped: 0 });
    expect(valueOf(failed, "PushRetries")).to.be.at.least(1);
    expect(valueOf(failed, "Pushes")).to.equal(loki.requests.length);
    loki.reset(); // Loki is back
    await l.invoke({ logs: ["up 1"] });
    expect(emfLines(l)).to.have.length(2);
    expect(figures(checked(emfLines(l)[1], Object.keys(UNITS)))).to.include({ Records: 1, RecordsFailed: 0, EntriesShipped: 3, PushRetries: 0 });
    loki.respondWith(...Array<number>(1000).fill(503));
    await l.invoke({ logs: ["never 1", "never 2"] });
    expect(await l.shutdown()).to.include({ killed: false, exitCode: 0 });
    const lines = emfLines(l);
    expect(lines, "one line for the invocation, one at SHUTDOWN").to.have.length(4);
    expect(figures(checked(lines[3], WITHOUT_LAG))).to.include({ EntriesLostAtShutdown: 2, EntriesShipped: 0 });
  });

  it("delivery lag: entries Lambda stamped ten minutes ago show their age at acknowledgement; platform.logsDropped is counted", async () => {
    const l = await start();
    const now = Date.now();
    const old = [600_000, 590_000].map((age, i) => ({ time: new Date(now - age).toISOString(), type: "function", record: `old ${i}\n` }));
    const dropped = { time: new Date(now).toISOString(), type: "platform.logsDropped", record: { droppedRecords: 12, droppedBytes: 3456, reason: "Consumer seems to have fallen behind as it has not acknowledged receipt of logs." } };
    expect((await l.postRawTelemetry(JSON.stringify([...old, dropped]))).status).to.equal(200);
    await l.invoke({ logs: ["fresh"] });
    const after = Date.now();
    const record = checked(emfLines(l)[0], Object.keys(UNITS));
    expect(figures(record)).to.include({ Records: 3, EntriesShipped: 3, TelemetryDroppedRecords: 12, TelemetryDroppedBytes: 3456 });
    expect(valueOf(record, "DeliveryLagOldest")).to.be.within(600_000, 600_000 + (after - now));
    expect(valueOf(record, "DeliveryLagNewest")).to.be.within(0, after - now);
  });

  it("LOKI_METRICS=false writes no metric line; LOKI_METRICS_NAMESPACE names the namespace", async () => {
    let l = await start({ LOKI_METRICS: "false" });
    loki.respondWith(503);
    await l.invoke({ logs: ["a"] });
    await l.shutdown();
    expect(storedLines()).to.deep.equal(["a"]);
    expect(emfLines(l)).to.deep.equal([]);
    await l.close();
    l = await start({ LOKI_METRICS_NAMESPACE: "Platform/Logs" });
    await l.invoke({ logs: ["b"] });
    checked(emfLines(l)[0], Object.keys(UNITS), "Platform/Logs");
  });

  it("shipping `extension` telemetry: its own metric lines are not shipped back, so a background flush does not feed itself", async () => {
    // Background regime from the fourth invocation (LOKI_BUSY_RATE reached), not frozen: the timer keeps running between invocations.
    const l = await start({ LOKI_TELEMETRY_TYPES: "function,extension", LOKI_BUSY_RATE: "0.01", LOKI_FLUSH_INTERVAL_MS: "100" }, { freeze: false });
    const busy = Array.from({ length: 6 }, (_, i) => `busy ${i}`);
    for (const line of busy) await l.invoke({ logs: [line] });
    await sleep(1000);
    const settled = emfLines(l).length;
    expect(settled).to.be.within(1, busy.length);
    // Ten more flush intervals: a line shipped back would make each of them push and write another.
    await sleep(1000);
    expect(emfLines(l)).to.have.length(settled);
    expect(storedLines().filter((line) => line.includes('"_aws"'))).to.deep.equal([]);
    expect(storedLines().filter((line) => line.startsWith("busy ")).sort()).to.deep.equal(busy);
    await l.shutdown();
    const summary = JSON.parse(l.stdout().split("\n").find((line) => line.includes('"extension summary"'))!) as { backgroundInvocations: number };
    expect(summary.backgroundInvocations, "the background regime was exercised").to.be.at.least(2);
  });
});
