/**
 * The tenant stage through the real handler and the local Loki receiver: the entries of one
 * invocation are grouped by tenant, one push per tenant with its X-Scope-OrgID, and a tenant
 * Loki refuses fails only the records holding entries for it.
 */
import { expect } from "chai";
import { handler } from "../handler/index";
import { kinesisEvent, kinesisRecord } from "./support/events";
import { captureFunctionLogs } from "./support/function-logs";
import { useHandlerWithLoki } from "./support/handler-harness";
import { ReceivedPush } from "./support/loki-receiver";

const STAGES = JSON.stringify([{ json: { expressions: { team: "" } } }, { tenant: { source: "team" } }]);

function context() {
  const end = Date.now() + 30_000;
  return { awsRequestId: "req-tenants", functionName: "lambda-promtail", getRemainingTimeInMillis: () => end - Date.now() };
}

/** A Kinesis record of plain JSON lines, one per team given (null: a line without a team). */
function record(seq: string, teams: Array<string | null>) {
  const lines = teams.map((team, i) => JSON.stringify(team === null ? { seq, i } : { team, seq, i }));
  return kinesisRecord(seq, Buffer.from(lines.join("\n") + "\n").toString("base64"));
}

/** Four records: r1 for tenant a, r2 for b, r3 for both, r4 without a team (TENANT_ID). */
const RECORDS = [record("1", ["a", "a"]), record("2", ["b"]), record("3", ["a", "b"]), record("4", [null])];

/** Runs the handler on a Kinesis event of `records`; answers its result and the function's log lines. */
async function invoke(records: ReturnType<typeof record>[]): Promise<{ result: unknown; logs: Array<Record<string, unknown>> }> {
  const logs = captureFunctionLogs();
  try {
    return { result: await handler(kinesisEvent(...records), context()), logs: logs.entries };
  } finally {
    logs.restore();
  }
}

/** The lines each tenant received in accepted pushes, by the pushes' X-Scope-OrgID. */
function linesByTenant(pushes: ReceivedPush[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const push of pushes) {
    const lines = push.streams.flatMap((s) => s.entries.map((e) => JSON.parse(e.line) as { team?: string; seq: string }));
    (out[push.tenant ?? "(none)"] ??= []).push(...lines.map((l) => `${l.team ?? "-"}@${l.seq}`));
  }
  for (const lines of Object.values(out)) lines.sort();
  return out;
}

describe("handler: the tenant stage pushes each tenant's entries under its own X-Scope-OrgID", () => {
  const harness = useHandlerWithLoki();
  const loki = harness.loki;
  /** The function's environment: the tenant stage, one push at a time, and `env`. */
  const configure = (env: Record<string, string>): void => harness.configure({ LOKI_STAGE_CONFIGS: STAGES, PUSH_CONCURRENCY: "1", ...env });
  beforeEach(() => configure({ TENANT_ID: "base" }));

  it("sends one push per tenant, each with its tenant's entries only, and TENANT_ID for the rest", async () => {
    const { result, logs } = await invoke(RECORDS);
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(loki.requests.map((r) => r.headers["x-scope-orgid"]).sort()).to.deep.equal(["a", "b", "base"]);
    expect(linesByTenant(loki.acceptedPushes())).to.deep.equal({ a: ["a@1", "a@1", "a@3"], b: ["b@2", "b@3"], base: ["-@4"] });
    const summary = logs.find((line) => line.message === "invocation summary");
    expect(summary).to.include({ pushes: 3, shipped: 6, failedRecords: 0 });
  });

  it("fails only the records with entries for a tenant Loki refuses (401), and says which tenant", async () => {
    loki.refuseTenant("b", 401);
    const { result, logs } = await invoke(RECORDS);
    expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "2" }, { itemIdentifier: "3" }] });
    expect(linesByTenant(loki.acceptedPushes())).to.deep.equal({ a: ["a@1", "a@1", "a@3"], base: ["-@4"] });
    const refusal = logs.find((line) => String(line.message).startsWith("Loki refused a push with 401"));
    expect(refusal, "the refusal is logged").to.not.equal(undefined);
    expect(refusal).to.include({ tenant: "b", status: 401 });
    expect(String(refusal?.message)).to.match(/all records with entries for tenant "b" fail/);
  });

  it("pushes nothing more for a refused tenant in the same invocation: its later records fail at once", async () => {
    loki.refuseTenant("b", 403);
    // BATCH_SIZE small enough that every line is its own push.
    configure({ BATCH_SIZE: "16" });
    const records = [record("1", ["b"]), record("2", ["a"]), record("3", ["b"]), record("4", ["a"])];
    const { result } = await invoke(records);
    expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "1" }, { itemIdentifier: "3" }] });
    expect(loki.requests.filter((r) => r.headers["x-scope-orgid"] === "b")).to.have.length(1);
    expect(linesByTenant(loki.acceptedPushes())).to.deep.equal({ a: ["a@2", "a@4"] });
  });
});
