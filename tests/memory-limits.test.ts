/**
 * Payloads inflated whole (CloudWatch subscription payloads, gzip Kinesis records) within a
 * 128 MB function: the inflating itself, the pressure relief before each payload, and the largest
 * payloads MAX_DECOMPRESSED_SIZE lets through, run through the bundled handler in a process under
 * the heap limits the Lambda runtime gives a 128 MB function. Peak RSS is measured by
 * `npm run bench` (bench/memory.ts), not asserted here.
 */
import { expect } from "chai";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { DEFAULT_MAX_DECOMPRESSED_SIZE } from "../handler/config";
import { PRESSURE_SHARE, relieveMemoryPressure } from "../handler/memory";
import { gunzip } from "../handler/sources/cloudwatch-payload";
import { BadRecordError } from "../handler/types";
import { buildHandlerChild, handlerChildDir, LAMBDA_MEMORY_MB, runHandlerChild } from "./support/lambda-heap";
import { cloudWatchEventOfSize, kinesisBatchOfSize, repetitiveMessages } from "./support/large-events";
import { LokiReceiver } from "./support/loki-receiver";

describe("payloads inflated whole: gunzip", () => {
  const text = Buffer.from("x".repeat(3_000_000) + "y".repeat(500_000));
  const gz = gzipSync(text);

  it("inflates into one buffer sized from the gzip trailer (no chunks joined into a second copy)", () => {
    const out = gunzip(gz, "payload", DEFAULT_MAX_DECOMPRESSED_SIZE);
    expect(out.equals(text)).to.equal(true);
    // zlib's default 16 KB chunks would be joined by Buffer.concat into a buffer of exactly the output's size.
    expect(out.buffer.byteLength).to.equal(text.length + 1);
  });

  const lying = (isize: number): Buffer => {
    const copy = Buffer.from(gz);
    copy.writeUInt32LE(isize >>> 0, copy.length - 4);
    return copy;
  };
  // zlib checks ISIZE itself when the stream ends: a trailer that lies is corrupt gzip. What
  // matters is that ISIZE never sizes an allocation beyond MAX_DECOMPRESSED_SIZE.
  for (const [name, isize] of [["smaller than the output", 10], ["far larger than the limit", 0xffffffff]] as const) {
    it(`a trailer whose size is ${name} fails the record as corrupt gzip, allocating at most the limit`, () => {
      expect(() => gunzip(lying(isize), "payload", 4 * 1024 * 1024)).to.throw(BadRecordError, /not valid gzip|more than 4194304 bytes/);
    });
  }

  it("a payload inflating past the limit still fails with the limit named", () => {
    expect(() => gunzip(gz, "payload", 1024 * 1024)).to.throw(BadRecordError, /more than 1048576 bytes, the MAX_DECOMPRESSED_SIZE limit/);
  });
});

describe("payloads inflated whole: memory pressure relief", () => {
  const saved = (globalThis as { gc?: () => void }).gc;
  let collections = 0;
  beforeEach(() => {
    collections = 0;
    (globalThis as { gc?: () => void }).gc = () => { collections++; };
  });
  afterEach(() => {
    (globalThis as { gc?: () => void }).gc = saved;
  });

  const rssMb = () => process.memoryUsage.rss() / (1024 * 1024);
  const cases: [string, NodeJS.ProcessEnv, number][] = [
    ["a function whose memory the process already uses more than half of", { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(Math.floor(rssMb())) }, 1],
    ["a function with memory to spare", { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(Math.ceil(rssMb() / PRESSURE_SHARE) * 4) }, 0],
    ["outside Lambda (no function memory size)", {}, 0],
  ];
  for (const [name, env, expected] of cases) {
    it(`${expected ? "collects" : "does not collect"} garbage before a payload in ${name}`, () => {
      expect(relieveMemoryPressure(env)).to.equal(expected === 1);
      expect(collections).to.equal(expected);
    });
  }

  it("does nothing when the runtime did not expose gc", () => {
    delete (globalThis as { gc?: () => void }).gc;
    expect(relieveMemoryPressure({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1" })).to.equal(false);
  });
});

describe(`MAX_DECOMPRESSED_SIZE's default fits a ${LAMBDA_MEMORY_MB} MB function`, function () {
  // Building the payloads and running the bundled handler takes seconds on a loaded machine.
  this.timeout(180_000);
  let dir: string;
  let script: string;
  const loki = new LokiReceiver();
  let url: string;
  before(async () => {
    dir = await handlerChildDir();
    script = await buildHandlerChild(dir);
    url = await loki.start();
  });
  after(async () => {
    await loki.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => loki.reset());

  const justUnder = DEFAULT_MAX_DECOMPRESSED_SIZE - 64 * 1024;
  const events: [string, () => { event: unknown; lines: number }][] = [
    ["a CloudWatch event whose payload inflates to just under 16 MB", () => {
      const { event, payload } = cloudWatchEventOfSize(repetitiveMessages(), undefined, justUnder);
      return { event, lines: payload.events };
    }],
    // Three records rather than a full 6 MB batch (bench/memory.ts runs that): enough to show
    // that one record's garbage does not pile onto the next's, in a third of the time.
    ["a Kinesis batch of three records each inflating to just under 16 MB", () => {
      const { event, payloads } = kinesisBatchOfSize(repetitiveMessages(), { maxInflatedBytes: justUnder, maxEventBytes: 1_600_000 });
      return { event, lines: payloads.reduce((n, p) => n + p.events, 0) };
    }],
  ];
  for (const [name, build] of events) {
    it(`ships ${name} whole under the runtime's heap limits`, async () => {
      const { event, lines } = build();
      const path = join(dir, "event.json");
      await writeFile(path, JSON.stringify(event));
      const run = await runHandlerChild(script, path, { WRITE_ADDRESS: url, LOG_LEVEL: "error", METRICS: "false" });
      expect(run.response === null || JSON.stringify(run.response) === '{"batchItemFailures":[]}', JSON.stringify(run.response)).to.equal(true);
      let received = 0;
      for (const push of loki.acceptedPushes()) for (const stream of push.streams) received += stream.entries.length;
      expect(received).to.equal(lines);
    });
  }
});
