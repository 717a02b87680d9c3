import { expect } from "chai";
import { startListener, type TelemetryListener } from "../extension/listener";

async function post(uri: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(uri, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } });
  return { status: response.status, text: await response.text() };
}

describe("extension telemetry listener", () => {
  let listener: TelemetryListener;
  const received: (readonly unknown[])[] = [];
  const malformed: string[] = [];
  before(async () => {
    listener = await startListener({ onEvents: (events) => received.push(events), onMalformed: (reason) => malformed.push(reason) });
  });
  afterEach(() => {
    received.length = 0;
    malformed.length = 0;
  });
  after(() => listener.close());

  it("binds 127.0.0.1 on a port other than 9001 when sandbox.localdomain does not resolve, and names it", () => {
    const url = new URL(listener.uri);
    expect(url.hostname).to.equal("127.0.0.1");
    expect(Number(url.port)).to.be.greaterThan(0).and.not.equal(9001);
  });

  it("hands a batch of events over and answers 200", async () => {
    const batch = [{ time: "2022-10-12T00:03:50.000Z", type: "function", record: "hello\n" }];
    expect((await post(listener.uri, JSON.stringify(batch))).status).to.equal(200);
    expect(received).to.deep.equal([batch]);
  });

  const bad: [string, string, number][] = [
    ["a body that is not JSON", "[{", 400],
    ["a JSON object instead of an array", '{"type":"function"}', 400],
  ];
  for (const [what, body, status] of bad) {
    it(`answers ${status} to ${what}, reports it, and keeps serving`, async () => {
      expect((await post(listener.uri, body)).status).to.equal(status);
      expect(malformed).to.have.length(1);
      expect(received).to.have.length(0);
      expect((await post(listener.uri, "[]")).status).to.equal(200);
      expect(listener.counters.malformedPosts).to.be.greaterThan(0);
    });
  }

  it("reads a POST Lambda resends with the same Sequence-Id only once", async () => {
    const body = JSON.stringify([{ time: "2022-10-12T00:03:50.000Z", type: "function", record: "once\n" }]);
    await post(listener.uri, body, { "Sequence-Id": "abc=" });
    await post(listener.uri, body, { "Sequence-Id": "abc=" });
    expect(received).to.have.length(1);
    expect(listener.counters.duplicatePosts).to.equal(1);
  });

  it("refuses other methods", async () => {
    const response = await fetch(listener.uri, { method: "GET" });
    expect(response.status).to.equal(405);
  });
});
