import { expect } from "chai";
import { eventTime, formatPlatformRecord, RecordConverter, type TelemetryEvent } from "../extension/records";
import type { TelemetryType } from "../extension/config";

const ALL: ReadonlySet<TelemetryType> = new Set(["function", "platform", "extension"]);

function convertAll(events: unknown[], shipTypes: ReadonlySet<TelemetryType> = ALL, metadata: string[] = []) {
  const converter = new RecordConverter({ shipTypes, metadata });
  return events.map((e) => converter.convert(e));
}

const entryOf = (c: ReturnType<RecordConverter["convert"]>) => {
  if (c.kind !== "entry") throw new Error(`expected an entry, got ${JSON.stringify(c)}`);
  return c.entry;
};

describe("extension records: telemetry events to entries", () => {
  const lines: [string, TelemetryEvent, string][] = [
    ["a text-format line loses its trailing newline", { time: "2022-10-12T00:03:50.000Z", type: "function", record: "[INFO] Hello world\n" }, "[INFO] Hello world"],
    ["a CRLF ending is stripped too", { time: "2022-10-12T00:03:50.000Z", type: "function", record: "windows\r\n" }, "windows"],
    ["only one trailing newline is stripped; inner ones stay", { time: "2022-10-12T00:03:50.000Z", type: "function", record: "a\nb\n\n" }, "a\nb\n"],
    ["an empty line stays empty", { time: "2022-10-12T00:03:50.000Z", type: "function", record: "\n" }, ""],
    ["a JSON-format record is shipped as its JSON serialisation", { time: "2022-10-12T00:03:50.000Z", type: "function", record: { timestamp: "2022-10-12T00:03:50.000Z", level: "INFO", requestId: "r1", message: "hi" } }, '{"timestamp":"2022-10-12T00:03:50.000Z","level":"INFO","requestId":"r1","message":"hi"}'],
    ["an extension line", { time: "2022-10-12T00:03:50.000Z", type: "extension", record: "[ext] ready\n" }, "[ext] ready"],
  ];
  for (const [what, event, line] of lines) {
    it(what, () => expect(entryOf(convertAll([event])[0]).line).to.equal(line));
  }

  it("stamps entries with the event's time, never the clock, with sub-millisecond digits kept", () => {
    const e = entryOf(convertAll([{ time: "2022-10-12T00:03:50.123456789Z", type: "function", record: "x" }])[0]);
    expect(e.sec).to.equal(Date.UTC(2022, 9, 12, 0, 3, 50) / 1000);
    expect(e.nsec).to.equal(123456789);
  });

  it("falls back to a JSON record's own timestamp when the event time is missing", () => {
    const e = entryOf(convertAll([{ type: "function", record: { timestamp: "2024-02-29T12:00:00.500Z", message: "m" } }])[0]);
    expect(e.sec).to.equal(Date.UTC(2024, 1, 29, 12) / 1000);
    expect(e.nsec).to.equal(500_000_000);
  });

  const invalid: [string, unknown][] = [
    ["null instead of an object", null],
    ["a number instead of an object", 7],
    ["a string instead of an object", "2022-10-12T00:03:50.000Z function x"],
    ["an array instead of an object", [{ time: "2022-10-12T00:03:50.000Z", type: "function", record: "x" }]],
    ["no time at all", { type: "function", record: "x" }],
    ["a time that is not RFC 3339", { time: "12/10/2022 00:03:50", type: "function", record: "x" }],
    ["the 31st of a 30-day month", { time: "2022-09-31T00:00:00.000Z", type: "function", record: "x" }],
    ["month 13", { time: "2022-13-01T00:00:00Z", type: "function", record: "x" }],
    ["a number as record", { time: "2022-10-12T00:03:50.000Z", type: "function", record: 42 }],
    ["no type", { time: "2022-10-12T00:03:50.000Z", record: "x" }],
    ["an unknown type", { time: "2022-10-12T00:03:50.000Z", type: "logs", record: "x" }],
  ];
  for (const [what, event] of invalid) {
    it(`reports an event with ${what} as invalid instead of shipping it with a made-up time`, () => {
      expect(convertAll([event])[0].kind).to.equal("invalid");
    });
  }

  it("gives entries of one millisecond distinct nanoseconds in arrival order, so Loki keeps identical lines", () => {
    const t = "2022-10-12T00:03:50.007Z";
    const converted = convertAll([{ time: t, type: "function", record: "same\n" }, { time: t, type: "function", record: "same\n" }, { time: "2022-10-12T00:03:50.008Z", type: "function", record: "next\n" }]).map(entryOf);
    expect(converted.map((e) => e.nsec)).to.deep.equal([7_000_000, 7_000_001, 8_000_000]);
  });

  it("attaches lambda_request_id (text lines: from the request in progress) and level (JSON lines) when asked", () => {
    const events: TelemetryEvent[] = [
      { time: "2022-10-12T00:00:00.000Z", type: "function", record: "init line\n" },
      { time: "2022-10-12T00:00:01.000Z", type: "platform.start", record: { requestId: "req-1", version: "$LATEST" } },
      { time: "2022-10-12T00:00:01.001Z", type: "function", record: "in request\n" },
      { time: "2022-10-12T00:00:01.002Z", type: "function", record: { level: "WARN", requestId: "req-json", message: "m" } },
      { time: "2022-10-12T00:00:01.003Z", type: "platform.runtimeDone", record: { requestId: "req-1", status: "success" } },
      { time: "2022-10-12T00:00:01.004Z", type: "function", record: "after\n" },
    ];
    const converted = convertAll(events, new Set(["function"]), ["lambda_request_id", "level"]);
    const metadata = converted.filter((c) => c.kind === "entry").map((c) => entryOf(c).metadata);
    expect(metadata).to.deep.equal([undefined, { lambda_request_id: "req-1" }, { lambda_request_id: "req-json", level: "WARN" }, undefined]);
    expect(converted[1].kind).to.equal("skip", "platform events are read but not shipped unless asked");
  });

  it("signals runtimeDone and logsDropped even when platform lines are not shipped", () => {
    const done: string[] = [];
    const dropped: number[] = [];
    const converter = new RecordConverter({ shipTypes: new Set(["function"]), metadata: [], signals: { onRuntimeDone: (id) => done.push(id), onLogsDropped: (records) => dropped.push(records) } });
    converter.convert({ time: "2022-10-12T00:00:01.003Z", type: "platform.runtimeDone", record: { requestId: "r", status: "success" } });
    converter.convert({ time: "2022-10-12T00:02:35.000Z", type: "platform.logsDropped", record: { droppedBytes: 12345, droppedRecords: 123, reason: "Consumer seems to have fallen behind" } });
    expect(done).to.deep.equal(["r"]);
    expect(dropped).to.deep.equal([123]);
  });

  it("counts only whole, non-negative figures of platform.logsDropped, so one odd event cannot make the dropped-telemetry metrics negative or astronomical", () => {
    const signalled: [number, number][] = [];
    const converter = new RecordConverter({ shipTypes: ALL, metadata: [], signals: { onLogsDropped: (records, bytes) => signalled.push([records, bytes]) } });
    const figures: [unknown, unknown, [number, number]][] = [
      [3, 300, [3, 300]],
      [-5, -1, [0, 0]],
      [1e308, 2 ** 60, [0, 0]],
      [1.5, "300", [0, 0]],
      [null, undefined, [0, 0]],
    ];
    for (const [droppedRecords, droppedBytes] of figures) {
      converter.convert({ time: "2022-10-12T00:02:35.000Z", type: "platform.logsDropped", record: { droppedRecords, droppedBytes, reason: "r" } });
    }
    expect(signalled).to.deep.equal(figures.map(([, , expected]) => expected));
  });

  const platform: [string, Record<string, unknown>, string][] = [
    ["platform.start", { requestId: "6d68ca91", version: "$LATEST" }, "START RequestId: 6d68ca91 Version: $LATEST"],
    ["platform.runtimeDone", { requestId: "6d68ca91", status: "success", metrics: { durationMs: 140, producedBytes: 16 } }, "END RequestId: 6d68ca91"],
    ["platform.runtimeDone", { requestId: "6d68ca91", status: "timeout", errorType: "Sandbox.Timedout" }, "END RequestId: 6d68ca91 Status: timeout Error Type: Sandbox.Timedout"],
    ["platform.report", { requestId: "6d68ca91", status: "success", metrics: { billedDurationMs: 694, durationMs: 693.92, initDurationMs: 397.68, maxMemoryUsedMB: 84, memorySizeMB: 128 } }, "REPORT RequestId: 6d68ca91\tDuration: 693.92 ms\tBilled Duration: 694 ms\tMemory Size: 128 MB\tMax Memory Used: 84 MB\tInit Duration: 397.68 ms"],
    ["platform.initStart", { initializationType: "on-demand", phase: "init", runtimeVersion: "nodejs:20.v13", runtimeVersionArn: "arn:aws:lambda:us-east-1::runtime:abc" }, "INIT_START Runtime Version: nodejs:20.v13\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc"],
    ["platform.initReport", { initializationType: "on-demand", phase: "init", status: "success", metrics: { durationMs: 125.33 } }, "INIT_REPORT Init Duration: 125.33 ms\tPhase: init\tStatus: success"],
    ["platform.extension", { name: "lambda-promtail", state: "Ready", events: ["INVOKE", "SHUTDOWN"] }, "EXTENSION Name: lambda-promtail State: Ready Events: [INVOKE,SHUTDOWN]"],
    ["platform.telemetrySubscription", { name: "lambda-promtail", state: "Subscribed", types: ["platform", "function"] }, "TELEMETRY Name: lambda-promtail State: Subscribed Types: [platform,function]"],
    ["platform.logsDropped", { droppedBytes: 12345, droppedRecords: 123, reason: "fallen behind" }, "LOGS_DROPPED DroppedRecords: 123 DroppedBytes: 12345 Reason: fallen behind"],
    ["platform.somethingNew", { a: 1 }, 'platform.somethingNew {"a":1}'],
  ];
  for (const [type, record, line] of platform) {
    it(`renders ${type} as a readable line: ${line.split(/[\t ]/)[0]}`, () => expect(formatPlatformRecord(type, record)).to.equal(line));
  }

  it("accepts Lambda's time forms and rejects others", () => {
    expect(eventTime("2022-10-12T00:03:50Z")).to.deep.equal({ sec: Date.UTC(2022, 9, 12, 0, 3, 50) / 1000, nsec: 0 });
    expect(eventTime("2022-10-12T02:03:50.5+02:00")).to.deep.equal({ sec: Date.UTC(2022, 9, 12, 0, 3, 50) / 1000, nsec: 500_000_000 });
    expect(eventTime(1665533030000)).to.equal(undefined);
    expect(eventTime("2022-10-12T24:00:00Z")).to.equal(undefined);
    expect(eventTime("2022-10-12T00:03:50+23:99"), "no zone is 23 h 99 min east").to.equal(undefined);
    expect(eventTime("2022-02-29T00:03:50Z"), "not a leap year").to.equal(undefined);
  });
});
