/**
 * Always answer before the deadline: the real handler with a Lambda context of a few seconds,
 * the local S3 server behind a fault-injecting proxy and the local Loki receiver. Whatever
 * hangs (Loki, a GetObject, an object's body half-way), the handler returns with a margin
 * before `getRemainingTimeInMillis()` runs out and reports exactly the records it could not
 * deliver; an object is not read on once nothing can be delivered.
 */
import { expect } from "chai";
import { DeadlineError, InvocationDeadline } from "../handler/deadline";
import { handler, resetForTests } from "../handler/index";
import { resetS3Clients } from "../handler/sources/s3-object";
import { setEnv } from "./support/env";
import { LokiReceiver, parseLabels, ScriptedResponse } from "./support/loki-receiver";
import { s3Notification, s3Record, sqsEvent, sqsMessage } from "./support/s3-events";
import { S3Fault, S3FaultProxy } from "./support/s3-fault-proxy";
import { LocalS3 } from "./support/s3-server";

const BUCKET = "logs";
const albKey = (name: string) =>
  `AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/06/01/123456789012_elasticloadbalancing_us-east-1_app.${name}.50dc6c495c0c9188_20240601T1200Z_10.0.0.1_2et2e1mx.log`;

const albLine = (lb: string, i: number) =>
  `http 2024-06-01T12:00:${String(i % 60).padStart(2, "0")}.${String(i % 1_000_000).padStart(6, "0")}Z app/${lb}/50dc6c495c0c9188 10.0.${i % 250}.1:4000 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/item/${i} HTTP/1.1" "curl/8.0" - - arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/73e2d6bc24d8a067 "Root=1-6659c9c0-${String(i).padStart(24, "0")}" "-" "-" 0 2024-06-01T12:00:00.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_0`;
const albObject = (lb: string, lines: number) => Array.from({ length: lines }, (_, i) => albLine(lb, i)).join("\n") + "\n";

/** A Lambda context whose deadline is `ms` from now, and what was left when the handler answered. */
function shortContext(ms: number) {
  const end = Date.now() + ms;
  return { awsRequestId: "deadline-test", getRemainingTimeInMillis: () => end - Date.now() };
}

/** Runs the handler; resolves to its answer (or error) and the time that was left at that moment. */
async function run(event: unknown, budgetMs: number): Promise<{ result?: unknown; error?: Error; leftMs: number }> {
  const context = shortContext(budgetMs);
  try {
    const result = await handler(event, context);
    return { result, leftMs: context.getRemainingTimeInMillis() };
  } catch (error) {
    return { error: error as Error, leftMs: context.getRemainingTimeInMillis() };
  }
}

/** Waits until `condition` holds or `ms` passed. */
async function until(condition: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !condition() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
}

describe("invocation deadline", () => {
  const margins: [number, number][] = [[900_000, 1000], [60_000, 1000], [4000, 1000], [3000, 750], [400, 100], [0, 0], [-5, 0]];
  for (const [remaining, margin] of margins) {
    it(`keeps ${margin} ms before the deadline when ${remaining} ms are left at the start`, () => {
      const deadline = new InvocationDeadline(() => remaining);
      expect(deadline.marginMs).to.equal(margin);
      expect(deadline.usable.remainingMs()).to.equal(remaining - margin);
      deadline.dispose();
    });
  }

  it("aborts its signal at the cutoff, with a DeadlineError, and not before", async () => {
    // An explicit margin below a quarter of the time left, so the cutoff (160 ms) does not depend
    // on how many milliseconds pass before the constructor reads the clock; the quarter rule is
    // the table above.
    const deadline = InvocationDeadline.in(200, 40);
    expect(deadline.marginMs).to.equal(40);
    expect(deadline.usable.signal?.aborted).to.equal(false);
    const start = Date.now();
    await new Promise((r) => setTimeout(r, 100));
    // A loaded machine may wake this timer late; before the cutoff the signal must still be quiet.
    if (Date.now() - start < 155) expect(deadline.signal.aborted).to.equal(false);
    await new Promise((r) => setTimeout(r, 90));
    expect(deadline.signal.aborted).to.equal(true);
    expect(deadline.signal.reason).to.be.instanceOf(DeadlineError);
    expect(InvocationDeadline.in(0).signal.aborted).to.equal(true);
  });
});

describe("always answer before the deadline (handler + S3 fault proxy + Loki receiver)", function () {
  this.timeout(20_000);
  let s3: LocalS3;
  let proxy: S3FaultProxy;
  const loki = new LokiReceiver();
  let restoreEnv: (() => void) | undefined;

  const configure = (extra: Record<string, string> = {}): void => {
    restoreEnv?.();
    restoreEnv = setEnv({ ...s3.env(), AWS_ENDPOINT_URL_S3: proxy.endpoint, WRITE_ADDRESS: loki.url, LOG_LEVEL: "error", BATCH_SIZE: "65536", ...extra });
    resetForTests();
    resetS3Clients();
  };

  before(async () => {
    s3 = await LocalS3.start([BUCKET]);
    proxy = new S3FaultProxy(s3.endpoint);
    await proxy.start();
    await loki.start();
    await Promise.all([
      // About 12 MB of text: 3 s to read at the 4 MB/s the proxy lets through.
      s3.put(BUCKET, albKey("large"), albObject("large", 30_000)),
      s3.put(BUCKET, albKey("small"), albObject("small", 50)),
      s3.put(BUCKET, albKey("stalled"), albObject("stalled", 400)),
    ]);
  });
  beforeEach(async () => {
    loki.reset();
    proxy.reset();
    configure();
    // A warm container: the S3 client is loaded (on this shared machine that alone can take seconds).
    expect(await handler(sqsEvent(sqsMessage("warm-up", s3Notification(s3Record(BUCKET, albKey("small"))))))).to.deep.equal({ batchItemFailures: [] });
    loki.reset();
    proxy.reset();
  });
  after(async () => {
    restoreEnv?.();
    resetForTests();
    resetS3Clients();
    await loki.stop();
    await proxy?.stop();
    await s3?.stop();
  });

  const HANG: ScriptedResponse = { status: 0, hang: true };
  const cases: { name: string; answers: Array<number | ScriptedResponse>; bytesPerSecond: number }[] = [
    { name: "Loki hangs mid-object", answers: [204, ...Array<ScriptedResponse>(50).fill(HANG)], bytesPerSecond: 4_000_000 },
    { name: "Loki answers 500 mid-object", answers: [204, ...Array<number>(500).fill(500)], bytesPerSecond: 4_000_000 },
    // Loki is fine, but the object cannot be read in the time the invocation has.
    { name: "S3 is too slow to finish in time", answers: [], bytesPerSecond: 1_000_000 },
  ];
  for (const { name, answers, bytesPerSecond } of cases) {
    it(`stops reading a large object when ${name}, and reports the record failed with a margin before the deadline`, async () => {
      proxy.fault(BUCKET, albKey("large"), { kind: "slow", bytesPerSecond });
      loki.respondWith(...answers);
      const budgetMs = 3000;
      const { result, leftMs } = await run(sqsEvent(sqsMessage("large", s3Notification(s3Record(BUCKET, albKey("large"))))), budgetMs);

      expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "large" }] });
      expect(loki.acceptedPushes()).to.have.length.greaterThan(0);
      // The margin for a 3 s context is 750 ms; half of it must still be left when the handler answers.
      expect(leftMs, "time left when the handler answered").to.be.greaterThan(375);
      // Pushes Loki left hanging were aborted (at the cutoff), not left open.
      const hung = loki.requests.filter((r) => r.status === 0).length;
      await until(() => loki.hangsClosedByClient === hung, 1000);
      expect(loki.hangsClosedByClient, "hanging pushes closed").to.equal(hung);
      const [body] = proxy.bodies.get(`/${BUCKET}/${albKey("large")}`) ?? [];
      // The proxy learns of the closed connection a moment after the handler closed it.
      await until(() => body.closedEarly, 1000);
      expect(body.closedEarly, "the S3 body was released before its end").to.equal(true);
      expect(body.sentBytes).to.be.lessThan(body.bodyBytes / 2);
    });
  }

  const stalls: { name: string; fault: S3Fault }[] = [
    { name: "a GetObject that never answers", fault: { kind: "never-answer" } },
    { name: "a body that stalls half-way", fault: { kind: "stall-after", bytes: 80_000 } },
  ];
  for (const { name, fault } of stalls) {
    it(`${name} fails only its SQS message, within its bound; the other message ships and the handler answers in time`, async () => {
      proxy.fault(BUCKET, albKey("stalled"), fault);
      const event = sqsEvent(
        sqsMessage("stalled", s3Notification(s3Record(BUCKET, albKey("stalled")))),
        sqsMessage("good", s3Notification(s3Record(BUCKET, albKey("small")))),
      );
      const { result, leftMs } = await run(event, 4000);

      expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "stalled" }] });
      const small = loki.acceptedPushes().flatMap((p) => p.streams).filter((st) => parseLabels(st.labels).__aws_s3_lb === "small");
      expect(small.flatMap((st) => st.entries.map((e) => e.line)).sort()).to.deep.equal(albObject("small", 50).trimEnd().split("\n").sort());
      // A stalled read may take a quarter of the usable time (3 s here): the good message had the rest.
      expect(leftMs, "time left when the handler answered").to.be.greaterThan(1000);
      await until(() => proxy.bodies.get(`/${BUCKET}/${albKey("stalled")}`)?.[0]?.closedEarly === true, 1000);
      if (fault.kind === "stall-after") expect(proxy.bodies.get(`/${BUCKET}/${albKey("stalled")}`)?.[0]?.closedEarly, "the stalled connection was closed").to.equal(true);
    });
  }
});
