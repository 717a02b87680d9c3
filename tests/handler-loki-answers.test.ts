/**
 * Loki's answers through the real handler, against the local Loki receiver: only an answer that
 * says Loki stored something may acknowledge records (handler/loki/answers.ts has the table).
 */
import { expect } from "chai";
import { handler } from "../handler/index";
import { cloudWatchEvent, cloudWatchPayload, kinesisEvent, kinesisRecord } from "./support/events";
import { captureFunctionLogs } from "./support/function-logs";
import { useHandlerWithLoki } from "./support/handler-harness";

function context(remainingMs = 30_000) {
  const end = Date.now() + remainingMs;
  return { awsRequestId: "req-answers", functionName: "lambda-promtail", getRemainingTimeInMillis: () => end - Date.now() };
}

/** Six Kinesis records of one 300-character line each: with BATCH_SIZE 256 every record is its own push. */
const RECORDS = Array.from({ length: 6 }, (_, i) => kinesisRecord(`50${i}`, Buffer.from(`record ${i} ${"x".repeat(290)}\n`).toString("base64")));
const ALL_FAILED = { batchItemFailures: RECORDS.map((r) => ({ itemIdentifier: r.kinesis.sequenceNumber })) };

type FunctionLogLine = Record<string, unknown>;

/** Runs `run` and returns what it resolved to or threw, with the function's log lines meanwhile. */
async function withLogs<T>(run: () => Promise<T>): Promise<{ result?: T; error?: unknown; lines: FunctionLogLine[] }> {
  const logs = captureFunctionLogs();
  try {
    return { result: await run(), lines: logs.entries };
  } catch (error) {
    return { error, lines: logs.entries };
  } finally {
    logs.restore();
  }
}

function summaryOf(lines: FunctionLogLine[]): FunctionLogLine {
  const summary = lines.find((line) => line.message === "invocation summary");
  if (!summary) throw new Error("no invocation summary was logged");
  return summary;
}

describe("handler: Loki's answers decide what is acknowledged", () => {
  const { loki, configure } = useHandlerWithLoki();
  beforeEach(() => configure({ BATCH_SIZE: "256", PUSH_CONCURRENCY: "1" }));

  // Every answer that stores nothing, with a body such as the thing answering would send.
  const REFUSALS: Array<{ status: number; body: string; fix: RegExp }> = [
    { status: 401, body: "no org id", fix: /USERNAME and PASSWORD or BEARER_TOKEN.*TENANT_ID/ },
    { status: 403, body: "access policy does not allow logs:write", fix: /logs:write.*TENANT_ID/ },
    { status: 404, body: "404 page not found", fix: /ending in \/loki\/api\/v1\/push.*WRITE_ADDRESS: http:\/\/127\.0\.0\.1/ },
    { status: 405, body: "method not allowed", fix: /\/loki\/api\/v1\/push/ },
    { status: 407, body: "proxy authentication required", fix: /proxy/ },
    { status: 409, body: "conflict", fix: /Loki does not give this answer/ },
    { status: 410, body: "gone", fix: /\/loki\/api\/v1\/push/ },
    { status: 411, body: "length required", fix: /Content-Length/ },
    { status: 412, body: "precondition failed", fix: /Loki does not give this answer/ },
    { status: 415, body: "unsupported media type", fix: /protobuf/ },
    { status: 418, body: "I'm a teapot", fix: /Loki does not give this answer/ },
    { status: 422, body: "unprocessable", fix: /Loki does not give this answer/ },
    { status: 431, body: "request header fields too large", fix: /BEARER_TOKEN/ },
    { status: 451, body: "unavailable for legal reasons", fix: /Loki does not give this answer/ },
    { status: 301, body: "moved", fix: /redirects/ },
  ];

  for (const { status, body, fix } of REFUSALS) {
    it(`${status}: fails every record, stops pushing, counts nothing as delivered and logs one error with the fix`, async () => {
      loki.respondWith(...Array.from({ length: 10 }, () => ({ status, body })));
      const { result, lines } = await withLogs(() => handler(kinesisEvent(...RECORDS), context()));
      expect(result).to.deep.equal(ALL_FAILED);
      expect(loki.requests.map((r) => r.status), "no push after the refusal").to.deep.equal([status]);
      expect(loki.acceptedPushes()).to.deep.equal([]);
      const errors = lines.filter((line) => line.level === "ERROR");
      expect(errors).to.have.length(1);
      expect(errors[0].message).to.include(`${status}`);
      expect(errors[0]).to.include({ status, reason: body });
      expect(errors[0].fix).to.match(fix);
      expect(summaryOf(lines)).to.include({ failedRecords: 6, rejected: 0, bytes: 0 });
    });
  }

  it("fails an asynchronous CloudWatch invocation answered 401, so Lambda retries it and then dead-letters it", async () => {
    loki.respondWith({ status: 401, body: "invalid authentication credentials" });
    const event = cloudWatchEvent(cloudWatchPayload("/aws/lambda/checkout", [{ timestamp: 1763798400000, message: "hello" }]));
    const { error } = await withLogs(() => handler(event, context()));
    expect((error as Error)?.message).to.match(/^1 of 1 cloudwatch records failed/);
  });

  it("an expired bearer token: the gateway's 401 fails the records", async () => {
    loki.requireAuthorization("Bearer fresh-token");
    configure({ BATCH_SIZE: "256", BEARER_TOKEN: "expired-token" });
    const { result, lines } = await withLogs(() => handler(kinesisEvent(...RECORDS), context()));
    expect(result).to.deep.equal(ALL_FAILED);
    expect(lines.filter((line) => line.level === "ERROR").map((line) => line.reason)).to.deep.equal(["authentication error: invalid authentication credentials"]);
    configure({ BATCH_SIZE: "256", BEARER_TOKEN: "fresh-token" });
    expect(await handler(kinesisEvent(...RECORDS), context())).to.deep.equal({ batchItemFailures: [] });
  });

  it("a bearer token no HTTP header can carry fails the cold start, naming BEARER_TOKEN, instead of acknowledging records Loki never received", async () => {
    // Node refuses to send such a header: every push threw, and the records were acknowledged.
    configure({ BATCH_SIZE: "256", PUSH_CONCURRENCY: "2", BEARER_TOKEN: "t\u00f6k\u20acn" });
    const { result, error } = await withLogs(() => handler(kinesisEvent(...RECORDS), context()));
    expect(result).to.equal(undefined);
    expect((error as Error).message).to.match(/^BEARER_TOKEN: holds a character an HTTP header cannot carry/);
    expect(loki.requests).to.have.length(0);
  });

  it("a multi-tenant Loki without TENANT_ID answers 401 \"no org id\": records fail until TENANT_ID is set", async () => {
    loki.requireTenant();
    configure({ BATCH_SIZE: "256" });
    const { result } = await withLogs(() => handler(kinesisEvent(...RECORDS), context()));
    expect(result).to.deep.equal(ALL_FAILED);
    configure({ BATCH_SIZE: "256", TENANT_ID: "team-a" });
    expect(await handler(kinesisEvent(...RECORDS), context())).to.deep.equal({ batchItemFailures: [] });
    expect(loki.acceptedPushes().flatMap((p) => p.streams).flatMap((s) => s.entries)).to.have.length(6);
  });

  it("a WRITE_ADDRESS that is not the push path (404 from Loki's router) fails the records and names the address", async () => {
    configure({ BATCH_SIZE: "256", WRITE_ADDRESS: loki.url.replace("/loki/api/v1/push", "/loki/api/v1") });
    const { result, lines } = await withLogs(() => handler(kinesisEvent(...RECORDS), context()));
    expect(result).to.deep.equal(ALL_FAILED);
    const [error] = lines.filter((line) => line.level === "ERROR");
    expect(error).to.include({ status: 404, reason: "404 page not found" });
    expect(error.fix).to.include(`WRITE_ADDRESS: ${loki.url.replace("/loki/api/v1/push", "/loki/api/v1")}`);
  });

  it("with pushes in flight together, stops at the first refusal and logs one error", async () => {
    configure({ BATCH_SIZE: "256", PUSH_CONCURRENCY: "4" });
    loki.respondWith(...Array.from({ length: 10 }, () => ({ status: 403, body: "forbidden", delayMs: 20 })));
    const many = Array.from({ length: 40 }, (_, i) => kinesisRecord(`60${i}`, Buffer.from(`line ${i} ${"y".repeat(290)}\n`).toString("base64")));
    const { result, lines } = await withLogs(() => handler(kinesisEvent(...many), context()));
    expect((result as { batchItemFailures: unknown[] }).batchItemFailures).to.have.length(40);
    expect(loki.requests.length).to.be.at.most(4);
    expect(lines.filter((line) => line.level === "ERROR")).to.have.length(1);
  });

  it("400: Loki stored the valid entries; counted as rejected, records acknowledged, not resent", async () => {
    loki.respondWith({ status: 400, body: "entry too far behind" });
    const { result, lines } = await withLogs(() => handler(kinesisEvent(RECORDS[0]), context()));
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(loki.requests).to.have.length(1);
    expect(summaryOf(lines)).to.include({ failedRecords: 0, rejected: 1 });
  });

  it("413 for a single entry: counted as rejected, the other records delivered", async () => {
    loki.rejectBodiesLargerThan(800, "decoded");
    const huge = kinesisRecord("7001", Buffer.from(`${"z".repeat(1000)}\n`).toString("base64"));
    const { result, lines } = await withLogs(() => handler(kinesisEvent(RECORDS[0], huge, RECORDS[1]), context()));
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(summaryOf(lines)).to.include({ failedRecords: 0, rejected: 1 });
    expect(loki.acceptedPushes().flatMap((p) => p.streams).flatMap((s) => s.entries)).to.have.length(2);
  });
});
