import { expect } from "chai";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { Deadline, Log, LogEntry } from "../handler/types";
import type { Stream } from "../handler/loki/batch";
import { encodePush, type EncodedPush } from "../handler/loki/encode";
import { combineReports, DEFAULT_USER_AGENT, LokiClient, parseRetryAfter, type LokiClientOptions, type PushReport } from "../handler/loki/client";
import { countEntries, LokiReceiver, parseLabels } from "./support/loki-receiver";

interface LogRecord {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  attributes?: Record<string, unknown>;
}

function capturingLog(): { log: Log; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord["level"]) =>
    (message: string, attributes?: Record<string, unknown>): void => {
      records.push({ level, message, attributes });
    };
  return { log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }, records };
}

/** A clock that only moves when the client sleeps, so that backoff and deadlines are exact. */
class FakeTime {
  now = 0;
  readonly sleeps: number[] = [];
  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.now += ms;
  };
  deadline(totalMs: number): Deadline {
    return { remainingMs: () => totalMs - this.now };
  }
}

const roomyDeadline: Deadline = { remainingMs: () => 600_000 };

/** A deadline on the real clock. */
function realDeadline(ms: number): Deadline {
  const end = Date.now() + ms;
  return { remainingMs: () => end - Date.now() };
}

/** Pseudo-random text that snappy cannot compress much, so body sizes are predictable. */
function noisyLine(seed: number, length: number): string {
  let state = seed * 2654435761;
  let line = "";
  while (line.length < length) {
    state = (Math.imul(state ^ (state >>> 13), 0x5bd1e995) + 0x3c6ef35f) >>> 0;
    line += state.toString(36);
  }
  return `${seed} ${line}`.slice(0, length);
}

function streamsOf(count: number, lineLength = 50, streamCount = 3): Stream[] {
  const streams: Stream[] = Array.from({ length: streamCount }, (_, s) => ({ labels: `{job="test", n="${s}"}`, entries: [] as LogEntry[] }));
  for (let i = 0; i < count; i++) streams[i % streamCount].entries.push({ sec: 1_700_000_000 + i, nsec: i, line: noisyLine(i, lineLength) });
  return streams.filter((stream) => stream.entries.length > 0);
}

/** The push of streamsOf(...), as the pipeline hands it to the client. */
function pushOf(...args: Parameters<typeof streamsOf>): EncodedPush {
  return encodePush(streamsOf(...args));
}

describe("loki client", () => {
  const loki = new LokiReceiver();
  let url: string;
  const clients: LokiClient[] = [];

  function client(options: Partial<LokiClientOptions> = {}): LokiClient & { records: LogRecord[] } {
    const { log, records } = capturingLog();
    const created = new LokiClient({ url, log, sleep: async () => {}, ...options });
    clients.push(created);
    return Object.assign(created, { records });
  }

  before(async () => {
    url = await loki.start();
  });
  afterEach(() => {
    loki.reset();
    for (const created of clients.splice(0)) created.close();
  });
  after(async () => {
    await loki.stop();
  });

  it("pushes protobuf with the expected headers and gets 204", async () => {
    const streams = streamsOf(10);
    const report = await client().push(encodePush(streams), roomyDeadline);
    expect(report).to.deep.equal({ outcome: "ok", pushes: 1, retries: 0, splits: 0, rejectedEntries: 0, status: 204 });
    expect(loki.requests).to.have.length(1);
    const { headers } = loki.requests[0];
    expect(headers["content-type"]).to.equal("application/x-protobuf");
    expect(headers["user-agent"]).to.equal(DEFAULT_USER_AGENT).and.match(/^lambda-promtail-pulumi\/\d+\.\d+\.\d+/);
    expect(headers.authorization).to.equal(undefined);
    expect(headers["x-scope-orgid"]).to.equal(undefined);
    const received = loki.received[0].streams;
    expect(received.map((s) => parseLabels(s.labels))).to.deep.equal([
      { job: "test", n: "0" },
      { job: "test", n: "1" },
      { job: "test", n: "2" },
    ]);
    expect(countEntries(loki.acceptedPushes()).distinct).to.equal(10);
    expect(received[0].entries[1]).to.deep.equal({ sec: 1_700_000_003, nsec: 3, line: noisyLine(3, 50), metadata: {} });
  });

  it("sends basic auth, the tenant header and a custom User-Agent", async () => {
    await client({ auth: { username: "user", password: "päss:word" }, tenantId: "team-a", userAgent: "custom/1" }).push(pushOf(1), roomyDeadline);
    const { headers } = loki.requests[0];
    expect(headers.authorization).to.equal(`Basic ${Buffer.from("user:päss:word").toString("base64")}`);
    expect(headers["x-scope-orgid"]).to.equal("team-a");
    expect(headers["user-agent"]).to.equal("custom/1");
  });

  it("sends a push's own tenant (tenant stage) instead of TENANT_ID, on every retry and 413 half", async () => {
    loki.rejectBodiesLargerThan(4000);
    loki.respondWith(500);
    const report = await client({ tenantId: "default-team", minBackoffMs: 1, maxBackoffMs: 2 }).push(pushOf(300, 120, 4), roomyDeadline, "team-b");
    expect(report.outcome).to.equal("ok");
    expect(report.splits).to.be.greaterThan(0);
    expect(report.retries).to.equal(1);
    expect(new Set(loki.requests.map((r) => r.headers["x-scope-orgid"]))).to.deep.equal(new Set(["team-b"]));
    await client({ tenantId: "default-team" }).push(pushOf(1), roomyDeadline);
    expect(loki.requests[loki.requests.length - 1].headers["x-scope-orgid"]).to.equal("default-team");
  });

  it("sends a bearer token", async () => {
    await client({ auth: { bearerToken: "t0ken" } }).push(pushOf(1), roomyDeadline);
    expect(loki.requests[0].headers.authorization).to.equal("Bearer t0ken");
  });

  it("takes basic auth from credentials in the URL and keeps them out of logs", async () => {
    const withCredentials = url.replace("http://", "http://us%40er:s3cret@");
    const created = client({ url: withCredentials });
    await created.push(pushOf(1), roomyDeadline);
    expect(loki.requests[0].headers.authorization).to.equal(`Basic ${Buffer.from("us@er:s3cret").toString("base64")}`);
    expect(JSON.stringify(created.records)).to.not.include("s3cret");
  });

  it("verifies TLS certificates unless told not to", () => {
    const agentOptions = (c: LokiClient) => (c as unknown as { agent: { options: { rejectUnauthorized?: boolean; keepAlive?: boolean } } }).agent.options;
    expect(agentOptions(client({ url: "https://loki.invalid/loki/api/v1/push" }))).to.include({ rejectUnauthorized: true, keepAlive: true });
    expect(agentOptions(client({ url: "https://loki.invalid/loki/api/v1/push", skipTlsVerify: true }))).to.include({ rejectUnauthorized: false });
  });

  it("reuses one keep-alive connection for consecutive pushes", async () => {
    const created = client();
    for (let i = 0; i < 3; i++) expect((await created.push(pushOf(5), roomyDeadline)).outcome).to.equal("ok");
    expect(loki.requests).to.have.length(3);
    expect(loki.connectionCount).to.equal(1);
  });

  it("sends nothing for no entries", async () => {
    const report = await client().push(encodePush([{ labels: "{}", entries: [] }]), roomyDeadline);
    expect(report).to.deep.equal({ outcome: "ok", pushes: 0, retries: 0, splits: 0, rejectedEntries: 0 });
    expect(loki.requests).to.have.length(0);
  });

  it("retries 500 and 429 with full-jitter exponential backoff, then succeeds", async () => {
    loki.respondWith(500, 429, 502, 503, 504, 500, 500, 429);
    const time = new FakeTime();
    const draws = [0.99, 0.5, 0.01, 0.75, 0.999, 0.3, 0.6, 0.9];
    let draw = 0;
    const report = await client({ sleep: time.sleep, random: () => draws[draw++], minBackoffMs: 100, maxBackoffMs: 3000 }).push(
      pushOf(20),
      time.deadline(600_000),
    );
    expect(report).to.include({ outcome: "ok", pushes: 9, retries: 8 });
    const ceilings = [100, 200, 400, 800, 1600, 3000, 3000, 3000];
    expect(time.sleeps).to.have.length(8);
    time.sleeps.forEach((ms, i) => {
      expect(ms).to.be.within(0, ceilings[i]);
      expect(ms).to.be.closeTo(draws[i] * ceilings[i], 1e-9);
    });
    // Every attempt carried the same entries; Loki stored them once.
    expect(countEntries(loki.acceptedPushes())).to.include({ total: 20, distinct: 20 });
  });

  it("waits as long as Retry-After says on 429 and 503", async () => {
    loki.respondWith({ status: 429, headers: { "Retry-After": "2" } }, { status: 503, headers: { "Retry-After": "1" } });
    const time = new FakeTime();
    const report = await client({ sleep: time.sleep, random: () => 0.5 }).push(pushOf(3), time.deadline(60_000));
    expect(report).to.include({ outcome: "ok", pushes: 3, retries: 2 });
    expect(time.sleeps).to.deep.equal([2000, 1000]);
  });

  it("gives up at once when Retry-After does not fit before the deadline", async () => {
    loki.respondWith({ status: 429, headers: { "Retry-After": "120" }, body: "rate limited" });
    const time = new FakeTime();
    const created = client({ sleep: time.sleep });
    const report = await created.push(pushOf(3), time.deadline(60_000));
    expect(report).to.include({ outcome: "failed", pushes: 1, retries: 0, status: 429, message: "rate limited" });
    expect(time.sleeps).to.deep.equal([]);
    expect(created.records.some((r) => r.level === "error")).to.equal(true);
  });

  it("stops backing off before the deadline minus the safety margin", async () => {
    const time = new FakeTime();
    const requestTimes: number[] = [];
    const slow = new LokiReceiver({ onPush: () => requestTimes.push(time.now) });
    const slowUrl = await slow.start();
    try {
      slow.respondWith(...Array<number>(50).fill(500));
      const total = 5000; // safety margin: min(1000, 5000 / 4) = 1000 ms, so 4000 ms to use
      const report = await client({ url: slowUrl, sleep: time.sleep, random: () => 0.999, maxRetries: 50 }).push(pushOf(3), time.deadline(total));
      expect(report).to.include({ outcome: "failed", status: 500 });
      expect(report.pushes).to.equal(requestTimes.length).and.be.below(51);
      // Every request started with at least minRequestMs (100) left before deadline - margin,
      // and the client never slept into the margin.
      for (const at of requestTimes) expect(total - 1000 - at).to.be.at.least(100);
      expect(time.now).to.be.at.most(total - 1000 - 100);
      // Backoff ceilings 100, 200, ..., 1600 fit; the 3197 ms draw of the 3200 ms one does not
      // and is cut to the 803 ms left for one last request (4000 - 3097 - 100), which fails too.
      expect(time.sleeps.map(Math.round)).to.deep.equal([100, 200, 400, 799, 1598, 803]);
      expect(report.pushes).to.equal(7);
      expect(time.now).to.equal(total - 1000 - 100);
    } finally {
      await slow.stop();
    }
  });

  it("cuts a random backoff longer than the time left to what is left, and makes that last attempt", async () => {
    loki.respondWith(...Array<number>(6).fill(503));
    const time = new FakeTime();
    const created = client({ sleep: time.sleep, random: () => 0.999, maxRetries: 50 });
    const report = await created.push(pushOf(3), time.deadline(5000));
    expect(report).to.include({ outcome: "ok", pushes: 7, retries: 6 });
    expect(time.sleeps.map(Math.round)).to.deep.equal([100, 200, 400, 799, 1598, 803]);
    expect(countEntries(loki.acceptedPushes())).to.include({ total: 3, distinct: 3 });
  });

  it("still makes that last attempt when the timer wakes a little late", async () => {
    loki.respondWith(...Array<number>(4).fill(503));
    const time = new FakeTime();
    const late = async (ms: number): Promise<void> => time.sleep(ms + 7); // every wake-up 7 ms late
    const created = client({ sleep: late, random: () => 0.999, maxRetries: 50 });
    const report = await created.push(pushOf(3), time.deadline(2000)); // 1500 ms to use
    // 99.9, 199.8, 399.6 (+7 each) fit; the 799 ms draw is cut to 1500 - 720.3 - 100 = 679.7 ms,
    // which wakes 7 ms late with 93 ms left: the request is still made, and Loki stores it.
    expect(time.sleeps.map(Math.round)).to.deep.equal([107, 207, 407, 687]);
    expect(report).to.include({ outcome: "ok", pushes: 5, retries: 4 });
    expect(countEntries(loki.acceptedPushes())).to.include({ total: 3, distinct: 3 });
  });

  it("gives up after that last attempt fails, without another wait", async () => {
    loki.respondWith(...Array<number>(8).fill(500));
    const time = new FakeTime();
    const created = client({ sleep: time.sleep, random: () => 0.999, maxRetries: 50 });
    const report = await created.push(pushOf(3), time.deadline(2000)); // margin 500 ms: 1500 ms to use
    // 100, 200, 400 fit (699 ms); the 799 ms draw does not and is cut to 1500 - 699 - 100.
    expect(time.sleeps.map(Math.round)).to.deep.equal([100, 200, 400, 701]);
    expect(report).to.include({ outcome: "failed", pushes: 5, status: 500 });
    expect(created.records.filter((r) => r.level === "error").map((r) => r.message)).to.deep.equal([
      "giving up on a Loki push: the last attempt that fitted before the Lambda deadline failed too",
    ]);
  });

  it("does not start a request when almost no time is left", async () => {
    const report = await client().push(pushOf(3), { remainingMs: () => 50 });
    expect(report).to.include({ outcome: "failed", pushes: 0 });
    expect(loki.requests).to.have.length(0);
  });

  it("derives the request timeout from the time left", async () => {
    loki.respondWith({ status: 204, delayMs: 5000 });
    const started = Date.now();
    const report = await client({ sleep: (ms) => new Promise((r) => setTimeout(r, ms)) }).push(pushOf(3), realDeadline(800));
    const elapsed = Date.now() - started;
    expect(report.outcome).to.equal("failed");
    expect(report.message).to.match(/no answer within|no time left/);
    // 800 ms left, a 200 ms safety margin: the request is abandoned after about 600 ms.
    expect(elapsed).to.be.within(450, 790);
  });

  it("does not resend a 400 and reports Loki's reason", async () => {
    const reason = "entry for stream '{job=\"test\"}' has timestamp too old: entry too far behind";
    loki.respondWith({ status: 400, body: reason });
    const created = client();
    const report = await created.push(pushOf(7), roomyDeadline);
    expect(report).to.deep.equal({ outcome: "rejected", pushes: 1, retries: 0, splits: 0, rejectedEntries: 7, status: 400, message: reason });
    expect(loki.requests).to.have.length(1);
    const warning = created.records.find((r) => r.level === "warn");
    expect(warning?.attributes).to.include({ reason, status: 400, entries: 7 });
  });

  it("keeps only the first kilobyte of a long error body and says it was cut", async () => {
    loki.respondWith({ status: 400, body: "é".repeat(5000) });
    const report = await client().push(pushOf(1), roomyDeadline);
    const [kept, note] = (report.message ?? "").split(" [truncated");
    expect(Buffer.byteLength(kept)).to.be.at.most(1024);
    expect(kept).to.match(/^(é)+/);
    expect(note).to.equal("; 10001 bytes in all]");
  });

  it("fails a push refused with 401, 403 or 404 at once, with the fix and without resending", async () => {
    for (const [status, fix] of [[401, /BEARER_TOKEN/], [403, /TENANT_ID/], [404, /\/loki\/api\/v1\/push/]] as const) {
      loki.reset();
      loki.respondWith({ status, body: "no org id" }, 204);
      const created = client();
      const report = await created.push(pushOf(2), roomyDeadline);
      expect(report).to.include({ outcome: "failed", pushes: 1, retries: 0, status, rejectedEntries: 0, message: "no org id" });
      expect(report.fix).to.match(fix);
      expect(loki.requests).to.have.length(1);
      // The caller logs it once per invocation; pushes in flight together would repeat it.
      expect(created.records.filter((r) => r.level === "error" || r.level === "warn")).to.deep.equal([]);
    }
  });

  it("fails a half of a split push refused with 401 without pushing the other half", async () => {
    loki.rejectBodiesLargerThan(1500);
    loki.respondWith({ status: 401, body: "expired" });
    const report = await client().push(pushOf(30, 80, 1), roomyDeadline);
    expect(report).to.include({ outcome: "failed", status: 401, splits: 1, message: "expired" });
    expect(report.fix).to.match(/USERNAME/);
    expect(loki.requests.map((r) => r.status)).to.deep.equal([413, 401]);
  });

  it("splits requests answered 413 until they fit; every line arrives exactly once", async () => {
    const limit = 4000;
    loki.rejectBodiesLargerThan(limit);
    const streams = streamsOf(300, 120, 4);
    const report = await client().push(encodePush(streams), roomyDeadline);
    expect(report.outcome).to.equal("ok");
    expect(report.splits).to.be.greaterThan(3);
    expect(loki.requests.filter((r) => r.status === 413)).to.have.length(report.splits);
    const accepted = loki.acceptedPushes();
    for (const push of accepted) expect(push.compressedBytes).to.be.at.most(limit);
    expect(countEntries(accepted)).to.include({ total: 300, distinct: 300, duplicates: 0 });
    // Halves keep each stream's entries in order.
    for (const push of accepted) {
      for (const stream of push.streams) {
        const secs = stream.entries.map((e) => e.sec);
        expect(secs).to.deep.equal([...secs].sort((a, b) => a - b));
      }
    }
  });

  it("rejects a single entry that is still too large and delivers the rest", async () => {
    loki.rejectBodiesLargerThan(3000);
    const streams = streamsOf(40, 60, 2);
    streams[1].entries.splice(5, 0, { sec: 1_700_000_500, nsec: 0, line: noisyLine(999, 10_000) });
    const created = client();
    const report = await created.push(encodePush(streams), roomyDeadline);
    expect(report).to.include({ outcome: "rejected", rejectedEntries: 1, status: 413 });
    const count = countEntries(loki.acceptedPushes());
    expect(count).to.include({ total: 40, distinct: 40 });
    expect(created.records.some((r) => r.level === "warn" && /single entry/.test(r.message))).to.equal(true);
  });

  it("measures 413 on the decoded size when the limit is Loki's own", async () => {
    loki.rejectBodiesLargerThan(2000, "decoded");
    const report = await client().push(pushOf(100, 80, 2), roomyDeadline);
    expect(report.outcome).to.equal("ok");
    for (const push of loki.acceptedPushes()) expect(push.decodedBytes).to.be.at.most(2000);
    expect(countEntries(loki.acceptedPushes())).to.include({ total: 100, distinct: 100 });
  });

  it("reports failed when a split half fails, without pushing the other half", async () => {
    loki.rejectBodiesLargerThan(1500);
    const time = new FakeTime();
    // First request: 413 (size). Then the first half gets 500 until retries run out.
    loki.respondWith(500, 500, 500);
    const report = await client({ sleep: time.sleep, maxRetries: 2 }).push(pushOf(30, 80, 1), time.deadline(600_000));
    expect(report).to.include({ outcome: "failed", status: 500, splits: 1, retries: 2 });
    expect(report.pushes).to.equal(4);
  });

  it("retries 408 but not 3xx (not Loki answering), naming where the redirect leads", async () => {
    loki.respondWith(408);
    const time = new FakeTime();
    expect(await client({ sleep: time.sleep }).push(pushOf(2), time.deadline(60_000))).to.include({ outcome: "ok", pushes: 2, retries: 1 });
    loki.respondWith({ status: 302, headers: { Location: "https://elsewhere.invalid/" } });
    const report = await client({ sleep: time.sleep }).push(pushOf(2), time.deadline(60_000));
    expect(report).to.include({ outcome: "failed", pushes: 1, status: 302 });
    expect(report.fix).to.include("redirected to https://elsewhere.invalid/");
  });

  it("resends at once when a kept-alive connection turns out to be closed", async () => {
    // Like a Lambda thawed after Loki's idle timeout: the first request on a reused
    // connection fails; a fresh connection works.
    const requestsPerSocket = new Map<unknown, number>();
    const flaky = http.createServer((req, res) => {
      const seen = (requestsPerSocket.get(req.socket) ?? 0) + 1;
      requestsPerSocket.set(req.socket, seen);
      req.resume();
      req.on("end", () => {
        if (seen === 2) req.socket.destroy();
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, "127.0.0.1", resolve));
    try {
      const time = new FakeTime();
      const created = client({ url: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/loki/api/v1/push`, sleep: time.sleep });
      expect(await created.push(pushOf(2), time.deadline(60_000))).to.include({ outcome: "ok", pushes: 1 });
      expect(await created.push(pushOf(2), time.deadline(60_000))).to.include({ outcome: "ok", pushes: 2, retries: 1 });
      expect(time.sleeps).to.deep.equal([]);
    } finally {
      flaky.closeAllConnections();
      await new Promise<void>((resolve) => flaky.close(() => resolve()));
    }
  });

  describe("at the invocation's cutoff (the deadline's signal)", () => {
    /** A deadline with plenty of time whose signal aborts after `ms`: only the signal can end the push early. */
    function cutoffIn(ms: number): Deadline {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error("the invocation's time is up")), ms).unref();
      return { remainingMs: () => 600_000, signal: controller.signal };
    }
    /** Waits until `condition` holds or `ms` passed. */
    async function until(condition: () => boolean, ms: number): Promise<void> {
      for (const end = Date.now() + ms; !condition() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
    }

    it("aborts a request Loki never answers at the cutoff, not at its own timeout, and closes its connection", async () => {
      loki.respondWith({ status: 0, hang: true });
      const created = client();
      const started = Date.now();
      const report = await created.push(pushOf(3), cutoffIn(200));
      const elapsed = Date.now() - started;
      expect(report).to.include({ outcome: "failed", pushes: 1, retries: 0, cutOff: true });
      expect(report.message).to.equal("the invocation's time is up");
      // Its own timeout is 30 s (maxRequestMs) with this much time left.
      expect(elapsed, "ms until the push answered").to.be.lessThan(10_000);
      // The caller reports the cutoff once for the invocation; one error per push would cost the margin.
      expect(created.records.filter((r) => r.level === "error" || r.level === "warn")).to.deep.equal([]);
      await until(() => loki.hangsClosedByClient === 1, 2000);
      expect(loki.hangsClosedByClient, "the hanging request was closed").to.equal(1);
    });

    it("ends a backoff at the cutoff instead of sleeping it out", async () => {
      loki.respondWith(...Array<number>(5).fill(500));
      // A backoff of about 20 s, which fits in the time left: only the signal can cut it short.
      const created = client({ sleep: undefined, minBackoffMs: 20_000, maxBackoffMs: 20_000, random: () => 0.99 });
      const started = Date.now();
      const report = await created.push(pushOf(3), cutoffIn(200));
      expect(report).to.include({ outcome: "failed", pushes: 1, cutOff: true });
      expect(Date.now() - started, "ms until the push answered").to.be.lessThan(10_000);
    });

    it("does not start a request once the cutoff has passed", async () => {
      const controller = new AbortController();
      controller.abort(new Error("the invocation's time is up"));
      const report = await client().push(pushOf(3), { remainingMs: () => 600_000, signal: controller.signal });
      expect(report).to.include({ outcome: "failed", pushes: 0, cutOff: true });
      expect(loki.requests).to.have.length(0);
    });

    it("keeps the cutoff mark when a split half is cut off", () => {
      const ok: PushReport = { outcome: "ok", pushes: 1, retries: 0, splits: 1, rejectedEntries: 0 };
      const cut: PushReport = { outcome: "failed", pushes: 1, retries: 0, splits: 0, rejectedEntries: 0, message: "time is up", cutOff: true };
      expect(combineReports(ok, cut)).to.include({ outcome: "failed", cutOff: true, pushes: 2 });
    });
  });

  it("retries connection errors, then fails", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const time = new FakeTime();
    const created = client({ url: `http://127.0.0.1:${port}/loki/api/v1/push`, sleep: time.sleep, maxRetries: 3 });
    const report = await created.push(pushOf(2), time.deadline(60_000));
    expect(report).to.include({ outcome: "failed", pushes: 4, retries: 3 });
    expect(report.status).to.equal(undefined);
    expect(report.message).to.match(/ECONNREFUSED/);
    expect(time.sleeps).to.have.length(3);
    expect(created.records.filter((r) => r.level === "warn")).to.have.length(3);
  });
});

describe("loki client helpers", () => {
  it("combines reports: failed dominates rejected dominates ok; counters add up", () => {
    const ok: PushReport = { outcome: "ok", pushes: 1, retries: 0, splits: 0, rejectedEntries: 0, status: 204 };
    const rejected: PushReport = { outcome: "rejected", pushes: 2, retries: 1, splits: 1, rejectedEntries: 5, status: 400, message: "bad" };
    const failed: PushReport = { outcome: "failed", pushes: 3, retries: 2, splits: 0, rejectedEntries: 0, status: 500, message: "down" };
    expect(combineReports(ok, rejected)).to.deep.equal({ outcome: "rejected", pushes: 3, retries: 1, splits: 1, rejectedEntries: 5, status: 400, message: "bad" });
    expect(combineReports(rejected, failed)).to.include({ outcome: "failed", pushes: 5, rejectedEntries: 5, message: "down" });
    expect(combineReports(failed, ok)).to.include({ outcome: "failed", message: "down" });
    expect(combineReports(ok, ok)).to.include({ outcome: "ok", pushes: 2 });
    const refused: PushReport = { outcome: "failed", pushes: 1, retries: 0, splits: 0, rejectedEntries: 0, status: 401, message: "expired", fix: "renew" };
    expect(combineReports(rejected, refused)).to.include({ outcome: "failed", status: 401, fix: "renew" });
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("3")).to.equal(3000);
    expect(parseRetryAfter(" 0 ")).to.equal(0);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:05 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).to.equal(5000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:05 GMT", Date.parse("Wed, 21 Oct 2015 08:00:00 GMT"))).to.equal(0);
    expect(parseRetryAfter("soon")).to.equal(undefined);
    expect(parseRetryAfter("-1")).to.equal(undefined);
    expect(parseRetryAfter(undefined)).to.equal(undefined);
  });

  it("rejects non-http URLs", () => {
    expect(() => new LokiClient({ url: "ftp://loki/push", log: capturingLog().log })).to.throw(/http/);
  });
});

describe("loki receiver helpers: parseLabels", () => {
  it("parses Prometheus label strings with Go-quoted values", () => {
    expect(parseLabels('{a="x", b="y"}')).to.deep.equal({ a: "x", b: "y" });
    expect(parseLabels("{}")).to.deep.equal({});
    expect(parseLabels('{__aws_log_type="s3_lb",job="a b"}')).to.deep.equal({ __aws_log_type: "s3_lb", job: "a b" });
    expect(parseLabels('{q="say \\"hi\\"\\n\\tback\\\\slash"}')).to.deep.equal({ q: 'say "hi"\n\tback\\slash' });
    expect(parseLabels('{u="\\u00fc\\U0001F600 \\xc3\\xa9 \\303\\251 日本"}')).to.deep.equal({ u: "ü😀 é é 日本" });
  });

  it("rejects malformed label strings", () => {
    for (const bad of ['a="x"', '{a="x"', '{a=x}', '{1a="x"}', '{a="x" b="y"}', '{a="x", a="y"}', '{a="\\q"}', '{a="x"} trailing']) {
      expect(() => parseLabels(bad), bad).to.throw(SyntaxError);
    }
  });
});
