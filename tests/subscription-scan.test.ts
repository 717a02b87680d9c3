import { expect } from "chai";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { rangeDecoder } from "../handler/parsers/text";
import { PRESSURE_SHARE, readsEventByEvent, WHOLE_PARSE_FACTOR } from "../handler/memory";
import { cloudWatchPayloadGroup, CloudWatchGroupOptions } from "../handler/sources/cloudwatch-payload";
import { JsonScanError, scanSubscriptionPayload } from "../handler/sources/subscription-scan";
import { BadRecordError, LogEntry, millisToTime } from "../handler/types";
import { seededRandom } from "./support/random";

const T0 = 1763798400123;

/** Whether JSON.parse accepts `bytes` decoded as the payload's text is, and whether the scan does. */
function verdicts(bytes: Buffer): { jsonParse: boolean; scan: boolean } {
  const { decode } = rangeDecoder(bytes);
  let jsonParse = true;
  try {
    JSON.parse(decode(0, bytes.length));
  } catch {
    jsonParse = false;
  }
  let scan = true;
  try {
    scanSubscriptionPayload(bytes, decode);
  } catch (err) {
    if (!(err instanceof JsonScanError)) throw err;
    scan = false;
  }
  return { jsonParse, scan };
}

describe("subscription payload scan: accepts exactly what JSON.parse accepts", () => {
  const event = '{"id":"1","timestamp":1763798400123,"message":"x"}';
  const documents: [string, string][] = [
    ["a payload", `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[${event}]}`],
    ["whitespace everywhere JSON allows it", ` \t\r\n{ "logEvents" : [ ${event} , ${event} ] , "owner" : "1" }\n`],
    ["an empty object", "{}"],
    ["an empty logEvents", '{"logEvents":[]}'],
    ["logEvents that is not an array", '{"logEvents":{"a":[1,2]}}'],
    ["every escape", String.raw`{"logEvents":[{"message":"\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \ud83d\ude00 \uD83D","timestamp":1}]}`],
    ["brackets and braces inside strings", '{"logEvents":[{"message":"]}],{\\"a\\":[}","timestamp":1},{"message":"},{\\"","timestamp":2}]}'],
    ["a string that ends with a backslash escape", '{"logEvents":[{"message":"a\\\\","timestamp":1}]}'],
    ["numbers of every form", '{"logEvents":[{"timestamp":-0,"message":""},{"timestamp":1.5e3,"message":""},{"timestamp":1E-2,"message":""},{"timestamp":0.25,"message":""},{"timestamp":12e+2,"message":""}]}'],
    ["literals and nesting in events", '{"logEvents":[{"timestamp":1,"message":"","extra":[true,false,null,{"a":[[[]]]}]}]}'],
    ["deep nesting", `{"other":${"[".repeat(5000)}${"]".repeat(5000)}}`],
    ["UTF-8 of every width", '{"logEvents":[{"timestamp":1,"message":"é € 😀"}],"logGroup":"/é"}'],
    ["top-level array", "[1,2]"],
    ["top-level string", '"x"'],
    ["top-level number", "42"],
    // Invalid, every one.
    ["nothing", ""],
    ["only whitespace", "  \n"],
    ["a truncated object", '{"logEvents":[{"timestamp":1,"message":"x"}'],
    ["a truncated string", '{"logEvents":[{"timestamp":1,"message":"x'],
    ["a truncated escape", '{"logEvents":[{"timestamp":1,"message":"x\\'],
    ["a truncated \\u escape", '{"a":"\\u00"}'],
    ["a bad \\u escape", '{"a":"\\u00G0"}'],
    ["an unknown escape", '{"a":"\\x41"}'],
    ["a raw tab in a string", '{"a":"x\ty"}'],
    ["a raw newline in a string", '{"a":"x\ny"}'],
    ["a raw NUL in a string", '{"a":"x\u0000y"}'],
    ["a trailing comma in an array", '{"logEvents":[1,]}'],
    ["a trailing comma in an object", '{"a":1,}'],
    ["a missing colon", '{"a" 1}'],
    ["a missing comma", '{"a":1 "b":2}'],
    ["a key that is not a string", "{a:1}"],
    ["single quotes", "{'a':1}"],
    ["a leading zero", '{"a":01}'],
    ["a bare minus", '{"a":-}'],
    ["a dot without digits", '{"a":1.}'],
    ["an exponent without digits", '{"a":1e}'],
    ["a plus sign", '{"a":+1}'],
    ["NaN", '{"a":NaN}'],
    ["a misspelt literal", '{"a":tru}'],
    ["a literal in capitals", '{"a":True}'],
    ["bytes after the document", '{"a":1} x'],
    ["two documents", '{"a":1}{"b":2}'],
    ["a byte-order mark", '\ufeff{"a":1}'],
    ["a vertical tab as whitespace", '\u000b{"a":1}'],
    ["a non-breaking space as whitespace", '\u00a0{"a":1}'],
    ["mismatched brackets", '{"a":[1}'],
    ["an unclosed array in an event", '{"logEvents":[{"timestamp":1,"message":"x","e":[1}]}'],
    ["a comment", '{"a":1 /* no */}'],
  ];
  for (const [what, text] of documents) {
    it(`${what}`, () => {
      const { jsonParse, scan } = verdicts(Buffer.from(text, "utf8"));
      expect(scan).to.equal(jsonParse);
    });
  }

  it("invalid UTF-8 inside a string is accepted and outside one refused, as after decoding", () => {
    for (const bytes of [
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]),
      Buffer.concat([Buffer.from('{"a":'), Buffer.from([0xff]), Buffer.from("}")]),
    ]) {
      const { jsonParse, scan } = verdicts(bytes);
      expect(scan).to.equal(jsonParse);
    }
  });

  it("agrees with JSON.parse on 3000 truncations and byte changes of a payload", () => {
    const payload = Buffer.from(JSON.stringify({
      messageType: "DATA_MESSAGE", owner: "1", logGroup: "g", logStream: "s", subscriptionFilters: ["f"],
      logEvents: [
        { id: "1", timestamp: T0, message: '{"level":"info","path":"/a\\b","ok":true,"n":[1,2.5e3,null]}' },
        { id: "2", timestamp: T0 + 1, message: "tab\there, quote \" and unicode é😀" },
      ],
    }));
    const rnd = seededRandom(7);
    const alphabet = Buffer.from('{}[]",:\\/ \t\n0123456789.eE+-tfnulrsabu\u0000\u001f');
    let invalid = 0;
    for (let k = 0; k < 3000; k++) {
      let bytes: Buffer;
      if (k % 3 === 0) bytes = payload.subarray(0, Math.floor(rnd() * payload.length));
      else {
        bytes = Buffer.from(payload);
        for (let changes = 1 + Math.floor(rnd() * 2); changes > 0; changes--) bytes[Math.floor(rnd() * bytes.length)] = alphabet[Math.floor(rnd() * alphabet.length)];
      }
      const { jsonParse, scan } = verdicts(bytes);
      expect(scan, bytes.toString("latin1")).to.equal(jsonParse);
      if (!jsonParse) invalid++;
    }
    // Both kinds were tried.
    expect(invalid).to.be.within(500, 2900);
  });
});

const OPTIONS: CloudWatchGroupOptions = { sourceLabels: { __aws_log_type: "cloudwatch" }, keepStream: false, wantEventId: true, what: "awslogs.data" };

/** What the payload's entries are by the format's definition, from JSON.parse of the whole. */
function expectedEntries(text: string): LogEntry[] {
  const parsed = JSON.parse(text) as { logEvents: { id?: unknown; timestamp: number; message: string }[] };
  return parsed.logEvents.map((ev) => {
    const { sec, nsec } = millisToTime(ev.timestamp)!;
    return typeof ev.id === "string" ? { sec, nsec, line: ev.message, metadata: { cloudwatch_event_id: ev.id } } : { sec, nsec, line: ev.message };
  });
}

/** How a payload is read: event by event (under memory pressure), or parsed whole. */
const MODES: [string, boolean][] = [["read event by event", true], ["parsed whole", false]];

function scannedGroup(text: string | Buffer, opts = OPTIONS, eventByEvent = true) {
  const read = cloudWatchPayloadGroup(typeof text === "string" ? Buffer.from(text, "utf8") : text, opts, eventByEvent);
  if (!read || read.control) throw new Error("expected a data payload");
  return read;
}

describe("CloudWatch payloads give the entries of their events, read event by event or parsed whole", () => {
  const header = '"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/g","logStream":"s","subscriptionFilters":["f"]';
  const ev = (message: string, timestamp = T0, id = '"e1"') => `{"id":${id},"timestamp":${timestamp},"message":${JSON.stringify(message)}}`;
  const cases: [string, string][] = [
    ["plain lines", `{${header},"logEvents":[${ev("first")},${ev("second", T0 + 1)}]}`],
    ["escapes of every kind", `{${header},"logEvents":[${ev('quote " backslash \\ slash / \b\f\n\r\t ctl \u0001')}]}`],
    ["\\u sequences, surrogate pairs included", `{${header},"logEvents":[{"id":"\\u0065\\u0031","timestamp":${T0},"message":"\\u00e9\\u20ac\\ud83d\\ude00\\u0000"}]}`],
    ["UTF-8 of every width", `{${header},"logEvents":[${ev("é € 😀 plain")},${ev("ascii")}]}`],
    ["brackets, braces and commas inside strings", `{${header},"logEvents":[${ev('}],{"logEvents":[')},${ev("},{")},${ev("]")}]}`],
    ["logEvents before the other fields", `{"logEvents":[${ev("early")}],${header}}`],
    ["keys written with escapes", `{"log\\u0045vents":[${ev("escaped key")}],"messageType":"DATA_MESSAGE","\\u006fwner":"1","logGroup":"/g","logStream":"s"}`],
    ["a repeated key (the last counts)", `{${header},"logEvents":[${ev("dropped")}],"logEvents":[${ev("kept")}],"logGroup":"/last"}`],
    ["event keys in any order, repeated, with extra fields", `{${header},"logEvents":[{"message":"m1","extra":{"a":[1,"}"]},"timestamp":1,"timestamp":${T0},"message":"m2"}]}`],
    ["ids that are not strings", `{${header},"logEvents":[${ev("a", T0, "42")},${ev("b", T0, "null")},{"timestamp":${T0},"message":"no id"}]}`],
    ["empty messages", `{${header},"logEvents":[${ev("")},${ev("", T0 + 1)}]}`],
    ["an empty logEvents", `{${header},"logEvents":[]}`],
    ["timestamps in every number form", `{${header},"logEvents":[${ev("a", 1.7637984e12)},${ev("b", -1)},${ev("c", 0)},${ev("d", 1763798400123.5)}]}`],
    ["pretty-printed JSON", JSON.stringify(JSON.parse(`{${header},"logEvents":[${ev("pretty")},${ev("printed", T0 + 5)}]}`), null, 2)],
    ["a single message of 2 MB", `{${header},"logEvents":[${ev("x".repeat(2 * 1024 * 1024 - 1) + '"')}]}`],
    ["many messages across text pieces", `{${header},"logEvents":[${Array.from({ length: 3000 }, (_, i) => ev(`line ${i} ${"a\\\"b".repeat(i % 40)}`, T0 + i)).join(",")}]}`],
  ];
  for (const [what, text] of cases) for (const [mode, eventByEvent] of MODES) {
    it(`${what} (${mode})`, () => {
      const read = scannedGroup(text, OPTIONS, eventByEvent);
      expect([...read.group.entries as Iterable<LogEntry>]).to.deep.equal(expectedEntries(text));
      const parsed = JSON.parse(text) as { logGroup: string; owner: string; logStream: string };
      expect(read.group.labels).to.deep.equal({ __aws_log_type: "cloudwatch", __aws_cloudwatch_log_group: parsed.logGroup, __aws_cloudwatch_owner: parsed.owner });
      expect(read.group.metadata).to.deep.equal({ cloudwatch_log_stream: parsed.logStream, cloudwatch_owner: parsed.owner });
    });
  }

  it("attaches no event id unless asked", () => {
    const read = scannedGroup(`{${header},"logEvents":[${ev("x")}]}`, { ...OPTIONS, wantEventId: false });
    expect([...read.group.entries as Iterable<LogEntry>]).to.deep.equal([{ sec: 1763798400, nsec: 123_000_000, line: "x" }]);
  });

  it("reads a payload that does not start at a 4-byte boundary of its memory", () => {
    const text = `{${header},"logEvents":[${ev("unaligned \"quoted\" and a long plain run of characters")}]}`;
    const backing = Buffer.alloc(text.length + 3);
    backing.write(text, 3);
    const read = scannedGroup(backing.subarray(3));
    expect([...read.group.entries as Iterable<LogEntry>]).to.deep.equal(expectedEntries(text));
  });
});

describe("CloudWatch payloads are refused as a whole, read event by event or parsed whole", () => {
  const header = '"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s"';
  const refused: [string, string, RegExp][] = [
    ["truncated JSON", `{${header},"logEvents":[{"timestamp":${T0},"message":"x"}`, /^awslogs\.data is not valid JSON: /],
    ["a raw control character deep in the last event", `{${header},"logEvents":[{"timestamp":${T0},"message":"ok"},{"timestamp":${T0},"message":"a\u0001"}]}`, /^awslogs\.data is not valid JSON/],
    ["a missing logGroup", '{"messageType":"DATA_MESSAGE","owner":"1","logStream":"s","logEvents":[]}', /field logGroup is missing or not a string/],
    ["logEvents that is not an array", `{${header},"logEvents":{}}`, /field logEvents is missing or not an array/],
    ["no logEvents", `{${header}}`, /field logEvents is missing or not an array/],
    ["an event without a message", `{${header},"logEvents":[{"timestamp":${T0},"message":"ok"},{"timestamp":${T0}}]}`, /logEvents\[1\] needs a numeric timestamp and a string message, got timestamp 1763798400123$/],
    ["an event that is not an object", `{${header},"logEvents":[{"timestamp":${T0},"message":"ok"},"text"]}`, /logEvents\[1\] needs a numeric timestamp and a string message$/],
    ["a timestamp that is a string", `{${header},"logEvents":[{"timestamp":"${T0}","message":"x"}]}`, /logEvents\[0\] needs a numeric timestamp and a string message, got timestamp "1763798400123"/],
    ["a timestamp Loki cannot store", `{${header},"logEvents":[{"timestamp":${T0},"message":"ok"},{"timestamp":1e25,"message":"x"}]}`, /logEvents\[1\]\.timestamp 1e\+25 is not a time Loki can store/],
    // As before: every event's shape is checked before any time.
    ["a malformed event after an unstorable time", `{${header},"logEvents":[{"timestamp":1e300,"message":"x"},{"timestamp":${T0}}]}`, /logEvents\[1\] needs a numeric timestamp/],
  ];
  for (const [what, text, message] of refused) for (const [mode, eventByEvent] of MODES) {
    it(`refuses ${what} before making any entry (${mode})`, () => {
      let caught: unknown;
      try {
        cloudWatchPayloadGroup(Buffer.from(text), OPTIONS, eventByEvent);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(BadRecordError);
      expect((caught as Error).message).to.match(message);
    });
  }

  it("words bad JSON as JSON.parse does", () => {
    const text = '{"messageType":"DATA_MESSAGE","logEvents":[{"timestamp":1,"message":"x"},]}';
    let jsonParseMessage = "";
    try {
      JSON.parse(text);
    } catch (err) {
      jsonParseMessage = (err as Error).message;
    }
    for (const [, eventByEvent] of MODES) {
      expect(() => cloudWatchPayloadGroup(Buffer.from(text), OPTIONS, eventByEvent)).to.throw(BadRecordError, `awslogs.data is not valid JSON: ${jsonParseMessage}`);
    }
  });

  const notPayloads: [string, string, unknown][] = [
    ["a CONTROL_MESSAGE, whatever its events", '{"messageType":"CONTROL_MESSAGE","logEvents":[{"nonsense":true}]}', { control: true }],
    ["JSON without messageType", '{"hello":"world","logEvents":[]}', undefined],
    ["another messageType", '{"messageType":"custom","owner":"1"}', undefined],
    ["a top-level array", "[1,2,3]", undefined],
  ];
  for (const [what, text, expected] of notPayloads) for (const [mode, eventByEvent] of MODES) {
    it(`reads ${what} as ${JSON.stringify(expected) ?? "not a payload"} (${mode})`, () => {
      expect(cloudWatchPayloadGroup(Buffer.from(text), OPTIONS, eventByEvent)).to.deep.equal(expected);
    });
  }
});

describe("CloudWatch payloads read event by event: memory", () => {
  it("describes a repeated logEvents key in the same arrays: its work grows with the payload, not with keys x payload", () => {
    // Each array sized from the whole payload, allocated per key: a 1 MB payload of 20,000
    // repeated keys took 1.9 s (the whole parse 18 ms), a 16 MB one minutes.
    const repeated = `"logEvents":[{"timestamp":${T0},"message":"x"}],`;
    const text = `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s",${repeated.repeat(2000)}"logEvents":[{"timestamp":${T0 + 1},"message":"last"}]}`;
    const saved = globalThis.Float64Array;
    let allocations = 0;
    globalThis.Float64Array = class extends saved {
      constructor(...args: ConstructorParameters<typeof Float64Array>) {
        super(...args);
        allocations++;
      }
    } as typeof Float64Array;
    let entries: LogEntry[];
    try {
      entries = [...scannedGroup(text).group.entries as Iterable<LogEntry>];
    } finally {
      globalThis.Float64Array = saved;
    }
    expect(entries).to.deep.equal(expectedEntries(text));
    expect(allocations, "timestamp arrays allocated").to.equal(1);
  });

  /** A function's memory in MB for which the process, with `bytes` parsed whole, is `room` MB under PRESSURE_SHARE. */
  const memoryWith = (bytes: number, room: number) => String(Math.ceil((process.memoryUsage.rss() + WHOLE_PARSE_FACTOR * bytes) / 1024 / 1024 / PRESSURE_SHARE) + room * 2);
  const choices: [string, (bytes: number) => NodeJS.ProcessEnv, boolean][] = [
    ["outside Lambda", () => ({}), false],
    ["in a function with room for the payload parsed whole", (bytes) => ({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: memoryWith(bytes, 32) }), false],
    ["in a function without room for it", (bytes) => ({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: memoryWith(bytes, -32) }), true],
  ];
  for (const [where, env, expected] of choices) {
    it(`${expected ? "reads" : "does not read"} a payload event by event ${where}`, () => {
      const bytes = 4 * 1024 * 1024;
      expect(readsEventByEvent(bytes, env(bytes))).to.equal(expected);
    });
  }

  it("collects garbage every megabyte of a payload read under memory pressure", () => {
    const text = `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s","logEvents":[${Array.from({ length: 3500 }, (_, i) => `{"timestamp":${T0 + i},"message":"${String(i).padEnd(1024, "x")}"}`).join(",")}]}`;
    const read = scannedGroup(text);
    const saved = { gc: (globalThis as { gc?: () => void }).gc, memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE };
    let collections = 0;
    (globalThis as { gc?: () => void }).gc = () => collections++;
    // A function of 1 MB: the process is always past half of it.
    process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = "1";
    try {
      let count = 0;
      for (const entry of read.group.entries as Iterable<LogEntry>) count += entry.line.length === 1024 ? 1 : 0;
      expect(count).to.equal(3500);
    } finally {
      (globalThis as { gc?: () => void }).gc = saved.gc;
      if (saved.memory === undefined) delete process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
      else process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = saved.memory;
    }
    // 3.5 MB of messages: one collection after each of the first three megabytes.
    expect(collections).to.equal(3);
  });

  it("lets go of the payload's bytes once its entries are read, though the group is still held", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    let payload: Buffer | undefined = Buffer.from(`{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/g","logStream":"s","logEvents":[${Array.from({ length: 300 }, (_, i) => `{"timestamp":${T0 + i},"message":"line ${i}"}`).join(",")}]}`);
    const bytes = new WeakRef(payload.buffer);
    const read = scannedGroup(payload);
    payload = undefined;
    let count = 0;
    for (const entry of read.group.entries as Iterable<LogEntry>) count += entry.line.length > 0 ? 1 : 0;
    expect(count).to.equal(300);
    // A macrotask, so that nothing on the stack still holds the bytes.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(bytes.deref(), "the payload's bytes are still reachable from its read group").to.equal(undefined);
    expect(read.group).to.have.property("entries");
  });
});

describe("CloudWatch payloads: read event by event and parsed whole give the same answer for generated payloads", () => {
  /** What reading a payload gives, comparable across the two ways: its group, or the error it throws. */
  function outcome(bytes: Buffer, eventByEvent: boolean, wantEventId: boolean): unknown {
    try {
      const read = cloudWatchPayloadGroup(bytes, { ...OPTIONS, keepStream: true, wantEventId }, eventByEvent);
      if (read === undefined || read.control) return read;
      return { labels: read.group.labels, metadata: read.group.metadata, entries: [...read.group.entries as Iterable<LogEntry>], logGroup: read.logGroup, owner: read.owner };
    } catch (err) {
      return { error: `${(err as Error).name}: ${(err as Error).message}` };
    }
  }

  const rnd = seededRandom(2024);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const STRINGS = ['"x"', '"é😀"', '"\\ud800"', '"\\udc00x"', '"\\ud83d\\ude00"', '"a\\"b"', '""', '"\\u0000"', '"\\/"', '"\u2028"', '"line\\nnext"'];
  const NUMBERS = [
    "0", "-0", "1763798400123", "1763798400123.5", "1e25", "-1e3", "9007199254740993", "123456789012345678", "1.7e12", "-62135596800001",
    "253402300799999", "253402300800000", "-62135596800000", "0.0000001", "999.9999999", "1e-400", "-1e400", "12345678901234567890123", "1763798400123.9999999",
  ];
  const WHITESPACE = ["", "", " ", "\n", "\t\r "];
  function value(depth: number): string {
    const r = rnd();
    if (r < 0.3) return pick(STRINGS);
    if (r < 0.6) return pick(NUMBERS);
    if (r < 0.7 || depth > 2) return pick(["true", "false", "null"]);
    if (r < 0.85) return `[${Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1)).join(",")}]`;
    return `{${Array.from({ length: Math.floor(rnd() * 3) }, () => `${pick(['"a"', '"message"', '"timestamp"'])}:${value(depth + 1)}`).join(",")}}`;
  }
  /** An event: mostly well formed, its keys in any order, repeated, escaped, among unknown fields. */
  function event(): string {
    if (rnd() < 0.05) return value(0);
    const fields: string[] = [];
    if (rnd() < 0.9) fields.push(`"id":${rnd() < 0.8 ? pick(STRINGS) : value(1)}`);
    if (rnd() < 0.95) fields.push(`"timestamp":${rnd() < 0.85 ? pick(NUMBERS.slice(0, 4)) : rnd() < 0.5 ? pick(NUMBERS) : value(1)}`);
    if (rnd() < 0.95) fields.push(`"message":${rnd() < 0.9 ? pick(STRINGS) : value(1)}`);
    const extraKeys = ['"timestamp"', '"message"', '"id"', '"t\\u0069mestamp"', '"m\\u0065ssage"', '"\\u0069d"', '"extra"', '"__proto__"'];
    for (let k = Math.floor(rnd() * 3); k > 0; k--) fields.splice(Math.floor(rnd() * (fields.length + 1)), 0, `${pick(extraKeys)}:${value(1)}`);
    return `{${pick(WHITESPACE)}${fields.join(`${pick(WHITESPACE)},${pick(WHITESPACE)}`)}${pick(WHITESPACE)}}`;
  }
  function payload(): string {
    const fields = [
      `"messageType":${rnd() < 0.9 ? '"DATA_MESSAGE"' : pick(['"CONTROL_MESSAGE"', '"x"', "1"])}`,
      `"owner":${rnd() < 0.95 ? '"123"' : value(0)}`,
      `"logGroup":${rnd() < 0.95 ? pick(['"/g"', '"/é"', '"\\ud800"']) : value(0)}`,
      `"logStream":${rnd() < 0.95 ? '"s"' : value(0)}`,
      `"logEvents":${rnd() < 0.95 ? `[${Array.from({ length: Math.floor(rnd() * 6) }, event).join(",")}]` : value(0)}`,
    ];
    const repeated = ['"logEvents"', '"logGroup"', '"l\\u006fgGroup"', '"other"', '"messageType"'];
    for (let k = Math.floor(rnd() * 3); k > 0; k--) fields.splice(Math.floor(rnd() * (fields.length + 1)), 0, `${pick(repeated)}:${rnd() < 0.5 ? value(0) : `[${event()}]`}`);
    return `{${fields.join(",")}}`;
  }
  /** Bytes that break UTF-8 or JSON: lone and truncated sequences, surrogates encoded in UTF-8, structural characters. */
  const BREAKING = [0xff, 0xc3, 0xe2, 0x82, 0x80, 0xed, 0xa0, 0xf0, 0x9f, 0x22, 0x5c, 0x20, 0x0a, 0x7b, 0x7d];

  it("agrees on 3000 payloads: repeated and escaped keys, surrogates, huge and odd numbers, invalid UTF-8, a byte-order mark", () => {
    const kinds = new Set<string>();
    for (let k = 0; k < 3000; k++) {
      let bytes = Buffer.from(payload(), "utf8");
      const mutation = rnd();
      if (mutation < 0.3) {
        for (let changes = 1 + Math.floor(rnd() * 2); changes > 0; changes--) bytes[Math.floor(rnd() * bytes.length)] = pick(BREAKING);
      } else if (mutation < 0.35) {
        bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
      }
      const wantEventId = rnd() < 0.5;
      const scanned = outcome(bytes, true, wantEventId);
      expect(scanned, bytes.toString("latin1")).to.deep.equal(outcome(bytes, false, wantEventId));
      kinds.add(scanned === undefined ? "not a payload" : "error" in (scanned as object) ? String((scanned as { error: string }).error).replace(/^.*?(not valid JSON|needs a numeric|not a time Loki|field \w+ is missing).*$/s, "$1") : "control" in (scanned as object) ? "control" : "entries");
    }
    // Every kind of answer was generated.
    expect([...kinds].sort()).to.deep.equal(["control", "entries", "field logEvents is missing", "field logGroup is missing", "field logStream is missing", "field owner is missing", "needs a numeric", "not a payload", "not a time Loki", "not valid JSON"].sort());
  });
});
