import { expect } from "chai";
import { LokiClient } from "../handler/loki/client";
import { decodePushBody } from "../handler/loki/decode";
import type { Deadline } from "../handler/types";
import { FlushCutoff } from "../extension/cutoff";
import { ENTRY_OVERHEAD_BYTES, Outbox } from "../extension/outbox";
import { FlushPolicy } from "../extension/policy";
import { countEntries, LokiReceiver } from "./support/loki-receiver";
import { MemoryLog } from "./support/events";
import { HangingLoki, within } from "./support/hanging-pusher";

const STREAM = '{__aws_log_type="telemetry"}';
const inMs = (ms: number): Deadline => {
  const end = Date.now() + ms;
  return { remainingMs: () => end - Date.now() };
};
const entry = (i: number, line = `line ${i}`) => ({ sec: 1_700_000_000 + i, nsec: 0, line });

describe("extension outbox: held entries and their flush", () => {
  const loki = new LokiReceiver();
  let client: LokiClient;
  before(async () => {
    await loki.start();
    client = new LokiClient({ url: loki.url, log: new MemoryLog(), minBackoffMs: 1, maxBackoffMs: 5, maxRetries: 2, safetyMarginMs: 0 });
  });
  afterEach(() => loki.reset());
  after(async () => {
    client.close();
    await loki.stop();
  });

  it("keeps what Loki did not store and delivers it later: nothing lost, nothing duplicated", async () => {
    const outbox = new Outbox(1 << 20);
    for (let i = 0; i < 300; i++) outbox.add(STREAM, entry(i));
    loki.respondWith(500, 500, 500); // every attempt of the first push fails
    const first = await outbox.flush(client, inMs(2000), 2048, 1);
    expect(first.outcome).to.equal("failed");
    expect(outbox.held).to.equal(300, "the failed batch went back, and later batches were not attempted");
    for (let i = 300; i < 350; i++) outbox.add(STREAM, entry(i));
    const second = await outbox.flush(client, inMs(2000), 2048, 2);
    expect(second.outcome).to.equal("ok");
    expect(outbox.held).to.equal(0);
    expect(outbox.heldBytes).to.equal(0);
    const counted = countEntries(loki.acceptedPushes());
    expect(counted.distinct).to.equal(350);
    expect(counted.duplicates).to.equal(0);
    expect(outbox.counters.delivered).to.equal(350);
  });

  it("pushes the entries of each tenant (tenant stage) in their own requests with their X-Scope-OrgID, in order", async () => {
    const outbox = new Outbox(1 << 20);
    const tenants = [undefined, "a", "a", "b", undefined, undefined, "a"];
    tenants.forEach((tenant, i) => outbox.add(STREAM, entry(i), tenant));
    const result = await outbox.flush(client, inMs(2000), 1 << 20, 1);
    expect(result.outcome).to.equal("ok");
    const pushes = loki.acceptedPushes().map((p) => ({ tenant: p.tenant, lines: p.streams.flatMap((s) => s.entries.map((e) => e.line)) }));
    expect(pushes).to.deep.equal([
      { tenant: undefined, lines: ["line 0"] },
      { tenant: "a", lines: ["line 1", "line 2"] },
      { tenant: "b", lines: ["line 3"] },
      { tenant: undefined, lines: ["line 4", "line 5"] },
      { tenant: "a", lines: ["line 6"] },
    ]);
  });

  it("sets a refused tenant's entries aside and goes on with the other tenants; they go first, in order, at the next flush", async () => {
    const outbox = new Outbox(1 << 20);
    const tenants = ["a", "b", "a", undefined, "a", "b"];
    tenants.forEach((tenant, i) => outbox.add(STREAM, entry(i), tenant));
    loki.refuseTenant("a", 403);
    const first = await outbox.flush(client, inMs(2000), 1 << 20, 1);
    expect(first.outcome).to.equal("failed");
    expect(first.message).to.match(/HTTP 403 for tenant "a"/);
    expect(first.refused, "a refusal, which only a fixed setting heals").to.equal(true);
    expect(outbox.held).to.equal(3);
    const linesOf = (pushes: ReturnType<typeof loki.acceptedPushes>) => pushes.map((p) => [p.tenant ?? "-", ...p.streams.flatMap((s) => s.entries.map((e) => e.line))].join(" "));
    expect(linesOf(loki.acceptedPushes())).to.deep.equal(["b line 1", "- line 3", "b line 5"]);
    expect(loki.requests.filter((r) => r.headers["x-scope-orgid"] === "a")).to.have.length(1);
    loki.reset();
    const second = await outbox.flush(client, inMs(2000), 1 << 20, 1);
    expect(second.outcome).to.equal("ok");
    expect(linesOf(loki.acceptedPushes())).to.deep.equal(["a line 0 line 2 line 4"]);
    expect(outbox.held).to.equal(0);
  });

  it("sets aside a tenant still answered 429 after the retries (its ingestion limits) like a refused one, and goes on with the other tenants", async () => {
    const outbox = new Outbox(1 << 20);
    const tenants = ["a", "b", "a", undefined, "a", "b"];
    tenants.forEach((tenant, i) => outbox.add(STREAM, entry(i), tenant));
    loki.refuseTenant("a", 429);
    const first = await outbox.flush(client, inMs(2000), 1 << 20, 1);
    expect(first.outcome).to.equal("failed");
    expect(first.refused, "rate limited is not refused").to.equal(undefined);
    expect(outbox.held).to.equal(3);
    const linesOf = (pushes: ReturnType<typeof loki.acceptedPushes>) => pushes.map((p) => [p.tenant ?? "-", ...p.streams.flatMap((s) => s.entries.map((e) => e.line))].join(" "));
    expect(linesOf(loki.acceptedPushes())).to.deep.equal(["b line 1", "- line 3", "b line 5"]);
    // One push for a, retried twice (the client's maxRetries), then none for the rest of the flush.
    expect(loki.requests.filter((r) => r.headers["x-scope-orgid"] === "a")).to.have.length(3);
  });

  it("drops entries Loki refused for good (400) and counts them as rejected, never resending", async () => {
    const outbox = new Outbox(1 << 20);
    outbox.add(STREAM, entry(1));
    loki.respondWith({ status: 400, body: "entry too far behind" });
    const result = await outbox.flush(client, inMs(2000), 1 << 20, 1);
    expect(result.outcome).to.equal("ok");
    expect(outbox.counters.rejected).to.equal(1);
    expect(outbox.held).to.equal(0);
    expect(loki.requests).to.have.length(1);
  });

  it("stops at the deadline and keeps the rest", async () => {
    const outbox = new Outbox(1 << 20);
    for (let i = 0; i < 10; i++) outbox.add(STREAM, entry(i));
    const result = await outbox.flush(client, inMs(10), 1 << 20, 1);
    expect(result.outcome).to.equal("out-of-time");
    expect(outbox.held).to.equal(10);
    expect(loki.requests).to.have.length(0);
  });

  it("bounds the memory it holds, dropping the oldest entries and counting them", () => {
    const line = "x".repeat(924);
    const outbox = new Outbox(10 * (924 + ENTRY_OVERHEAD_BYTES));
    for (let i = 0; i < 25; i++) outbox.add(STREAM, entry(i, line));
    expect(outbox.held).to.equal(10);
    expect(outbox.counters.droppedEntries).to.equal(15);
    expect(outbox.counters.droppedBytes).to.equal(15 * 924);
    expect(outbox.heldBytes).to.be.at.most(10 * (924 + ENTRY_OVERHEAD_BYTES));
  });
});

/**
 * Timers the process holds now (Node's own count of active handles). Read it after the test's
 * first `await`: mocha arms its timeout timer once the test function has returned its promise.
 */
const activeTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("extension outbox at its flush's cutoff", () => {
  const cases: { name: string; deadline: () => Deadline & { dispose?: () => void }; concurrency: number }[] = [
    { name: "a cutoff signal, one push in flight", deadline: () => new FlushCutoff(Date.now() + 150), concurrency: 1 },
    { name: "a cutoff signal, waiting for a free push slot", deadline: () => new FlushCutoff(Date.now() + 150), concurrency: 2 },
    { name: "a deadline without a signal (time left only)", deadline: () => inMs(150), concurrency: 4 },
  ];
  for (const { name, deadline: make, concurrency } of cases) {
    it(`${name}: answers at the cutoff without waiting for the pushes in flight, keeps their entries in order, ignores late answers`, async () => {
      const loki = new HangingLoki();
      const outbox = new Outbox(1 << 20);
      for (let i = 0; i < 6; i++) outbox.add(STREAM, entry(i));
      await tick();
      const timersBefore = activeTimers();
      const deadline = make();
      try {
        // One entry per batch (a batch is full at its first entry).
        const result = await within(outbox.flush(loki, deadline, 1, concurrency), 3000, "flush");
        expect(deadline.remainingMs(), "answered at the cutoff, not before").to.be.at.most(0);
        expect(result).to.deep.equal({ outcome: "out-of-time", delivered: 0 });
        expect(loki.pushes).to.equal(concurrency);
        expect(outbox.held).to.equal(6);
        expect(outbox.counters).to.include({ delivered: 0, failedFlushes: 1, failedEntries: 6 });
        expect(activeTimers(), "the flush left no timer behind").to.be.at.most(timersBefore);
        // The given-up pushes answer now: nothing changes, and the entries go again, in order.
        loki.answer("ok");
        await new Promise((resolve) => setImmediate(resolve));
        expect(outbox.counters.delivered).to.equal(0);
        expect(outbox.held).to.equal(6);
        const sent: string[] = [];
        await outbox.flush({ push: async (request) => {
          sent.push(...decodePushBody(request.body).flatMap((s) => s.entries.map((e) => e.line)));
          return { outcome: "ok", pushes: 1, retries: 0, splits: 0, rejectedEntries: 0 };
        } }, inMs(1000), 1 << 20, 1);
        expect(sent).to.deep.equal([0, 1, 2, 3, 4, 5].map((i) => `line ${i}`));
        expect(outbox.held).to.equal(0);
      } finally {
        deadline.dispose?.();
      }
    });
  }

  it("behind the real client: a cutoff brought forward ends a hanging request or a 20 s backoff at once, and no timer is left", async () => {
    const loki = new LokiReceiver();
    await loki.start();
    const client = new LokiClient({ url: loki.url, log: new MemoryLog(), minBackoffMs: 20_000, maxBackoffMs: 20_000, safetyMarginMs: 0, random: () => 0.99 });
    try {
      // A request that hangs; a 503 followed by a backoff of about 20 s.
      for (const script of [{ status: 0, hang: true }, { status: 503 }]) {
        loki.reset();
        loki.respondWith(script);
        const outbox = new Outbox(1 << 20);
        for (let i = 0; i < 3; i++) outbox.add(STREAM, entry(i));
        // A background flush with a minute to go; SHUTDOWN then brings its end forward.
        await tick();
        const timersBefore = activeTimers();
        const cutoff = new FlushCutoff(Date.now() + 60_000);
        const flushing = outbox.flush(client, cutoff, 1 << 20, 1);
        for (let i = 0; i < 200 && loki.requests.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(loki.requests).to.have.length(1);
        await new Promise((resolve) => setTimeout(resolve, 50));
        cutoff.advanceTo(Date.now() + 50);
        const result = await within(flushing, 3000, "flush");
        cutoff.dispose();
        expect(result.outcome, JSON.stringify(script)).to.equal("out-of-time");
        expect(outbox.held).to.equal(3);
        expect(loki.requests).to.have.length(1);
        expect(activeTimers(), `${JSON.stringify(script)}: no backoff or request timer left running`).to.be.at.most(timersBefore);
      }
    } finally {
      client.close();
      await loki.stop();
    }
  });
});

describe("extension flush cutoff", () => {
  it("aborts its signal at its end, can be brought forward but never back, and leaves no timer once disposed", async () => {
    const cutoff = new FlushCutoff(Date.now() + 60_000);
    cutoff.advanceTo(Date.now() + 120_000);
    expect(cutoff.remainingMs()).to.be.within(59_000, 60_000);
    cutoff.advanceTo(Date.now() + 30);
    await within(new Promise((resolve) => cutoff.signal.addEventListener("abort", resolve)), 2000, "cutoff");
    expect(cutoff.remainingMs()).to.be.at.most(0);
    expect((cutoff.signal.reason as Error).name).to.equal("FlushCutoffError");
    const before = activeTimers();
    const idle = new FlushCutoff(Date.now() + 60_000);
    expect(activeTimers()).to.equal(before + 1);
    idle.dispose();
    expect(activeTimers()).to.equal(before);
  });
});

describe("extension flush cutoff against a timer that fires early", () => {
  // Node's timers run on a monotonic clock and may fire a millisecond or so before Date.now()
  // reaches the end; here the wall clock is made to lag by 15 ms to make that certain.
  const LAG_MS = 15;

  it("a FlushCutoff aborts only once no time is left", async () => {
    const realNow = Date.now;
    const cutoff = new FlushCutoff(realNow() + 40);
    Date.now = () => realNow() - LAG_MS;
    try {
      await within(new Promise((resolve) => cutoff.signal.addEventListener("abort", resolve)), 2000, "cutoff");
      expect(cutoff.remainingMs(), "time left when the signal aborted").to.be.at.most(0);
    } finally {
      Date.now = realNow;
      cutoff.dispose();
    }
  });

  it("a flush with a deadline without a signal answers only once no time is left", async () => {
    const outbox = new Outbox(1 << 20);
    outbox.add(STREAM, entry(0));
    const realNow = Date.now;
    const deadline = inMs(120);
    const flushing = outbox.flush(new HangingLoki(), deadline, 1, 1);
    Date.now = () => realNow() - LAG_MS;
    try {
      const result = await within(flushing, 3000, "flush");
      expect(deadline.remainingMs(), "time left when the flush answered").to.be.at.most(0);
      expect(result.outcome).to.equal("out-of-time");
    } finally {
      Date.now = realNow;
    }
  });
});

describe("extension flush policy", () => {
  const starts = (policy: FlushPolicy, times: number[]) => times.map((t) => policy.onInvoke(t));

  it("pushes at the end of each invocation while invocations are rare", () => {
    const policy = new FlushPolicy({ strategy: "auto", busyRate: 2 });
    expect(starts(policy, [0, 1000, 2000, 3000, 4000, 5000])).to.deep.equal(Array(6).fill("end-of-invocation"));
  });

  it("moves pushes to the background at the busy rate and back when traffic thins below half of it", () => {
    const policy = new FlushPolicy({ strategy: "auto", busyRate: 2 });
    const busy = starts(policy, [0, 100, 200, 300, 400, 500]);
    expect(busy.slice(0, 3)).to.deep.equal(["end-of-invocation", "end-of-invocation", "end-of-invocation"], "too few samples to judge");
    expect(busy.slice(3)).to.deep.equal(["background", "background", "background"]);
    // 1.5 invocations a second: under the threshold but above half of it, so it stays in the background.
    const slower = starts(policy, [1100, 1800, 2400, 3100]);
    expect(slower.every((r) => r === "background")).to.equal(true);
    // A long pause: the rate over the window falls under 1/s and the end-of-invocation push returns.
    expect(policy.onInvoke(30_000)).to.equal("end-of-invocation");
  });

  it("never moves to the background with the end-of-invocation strategy", () => {
    const policy = new FlushPolicy({ strategy: "end-of-invocation", busyRate: 2 });
    expect(starts(policy, [0, 10, 20, 30, 40, 50]).every((r) => r === "end-of-invocation")).to.equal(true);
  });
});
