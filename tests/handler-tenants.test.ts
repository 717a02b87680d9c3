/**
 * The tenant stage through the real handler and the local Loki receiver: the entries of one
 * invocation are grouped by tenant, one push per tenant with its X-Scope-OrgID, and a tenant
 * Loki refuses fails only the records holding entries for it.
 */
import { expect } from "chai";
import { handler } from "../handler/index";
import { cloudWatchPayload, gzipBase64, kinesisEvent, kinesisRecord } from "./support/events";
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

  it("splits a push answered 413 under its own tenant, and a tenant refused meanwhile fails only its records", async () => {
    loki.refuseTenant("b", 403);
    // Bodies of more than one entry are too large: every push of two or more entries is split down to single entries.
    loki.rejectBodiesLargerThan(180, "decoded");
    const { result, logs } = await invoke(RECORDS);
    expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "2" }, { itemIdentifier: "3" }] });
    expect(linesByTenant(loki.acceptedPushes())).to.deep.equal({ a: ["a@1", "a@1", "a@3"], base: ["-@4"] });
    // Every request of a's split carried a's tenant; b's push was never split (refused whole).
    const tenantsOf413 = loki.requests.filter((r) => r.status === 413).map((r) => r.headers["x-scope-orgid"]);
    expect(tenantsOf413).to.include("a").and.not.include("b");
    const summary = logs.find((line) => line.message === "invocation summary");
    expect(summary).to.include({ shipped: 4, rejected: 0, failedRecords: 2 });
  });
});

describe("handler: Promtail's reserved __tenant_id__ label picks the tenant and never reaches Loki", () => {
  const harness = useHandlerWithLoki();
  const loki = harness.loki;

  /** A Kinesis record carrying a CloudWatch payload of `logGroup`, one JSON line per team given (null: no team). */
  function groupRecord(seq: string, logGroup: string, teams: Array<string | null>) {
    const events = teams.map((team, i) => ({ timestamp: 1763798400000 + i, message: JSON.stringify(team === null ? { seq, i } : { team, seq, i }) }));
    return kinesisRecord(seq, gzipBase64(cloudWatchPayload(logGroup, events)));
  }
  /** r1 and r2 come from the team-a and team-b functions; r3 from a log group no rule maps to a tenant. */
  const RECORDS = [groupRecord("1", "/aws/lambda/team-a", ["x", null]), groupRecord("2", "/aws/lambda/team-b", [null]), groupRecord("3", "/ecs/web", ["c"])];
  const byGroup = (replacement = "$1") => JSON.stringify([{ source_labels: ["__aws_cloudwatch_log_group"], regex: "/aws/lambda/team-(.*)", target_label: "__tenant_id__", replacement }]);
  const stages = (list: unknown[]) => JSON.stringify(list);
  const TEAM = { json: { expressions: { team: "" } } };

  const cases: Array<[what: string, env: Record<string, string>, tenants: Record<string, string[]>, dropped?: Record<string, number>]> = [
    ["a relabel rule picks the tenant; entries without __tenant_id__ go under TENANT_ID",
      { RELABEL_CONFIGS: byGroup(), TENANT_ID: "base" }, { a: ["-@1", "x@1"], b: ["-@2"], base: ["c@3"] }],
    ["without TENANT_ID, entries without __tenant_id__ are pushed with no X-Scope-OrgID",
      { RELABEL_CONFIGS: byGroup() }, { a: ["-@1", "x@1"], b: ["-@2"], "(none)": ["c@3"] }],
    ["a tenant stage overrides the relabel rule where it finds a tenant, and leaves it where it does not",
      { RELABEL_CONFIGS: byGroup(), TENANT_ID: "base", LOKI_STAGE_CONFIGS: stages([TEAM, { tenant: { source: "team" } }]) }, { x: ["x@1"], a: ["-@1"], b: ["-@2"], c: ["c@3"] }],
    ["a labels stage writing __tenant_id__ after the tenant stage wins over it",
      { TENANT_ID: "base", LOKI_STAGE_CONFIGS: stages([{ tenant: { value: "fixed" } }, TEAM, { labels: { __tenant_id__: "team" } }]) }, { x: ["x@1"], fixed: ["-@1", "-@2"], c: ["c@3"] }],
    ["a stage dropping __tenant_id__ sends the entries back to TENANT_ID",
      { RELABEL_CONFIGS: byGroup(), TENANT_ID: "base", LOKI_STAGE_CONFIGS: stages([{ labeldrop: ["__tenant_id__"] }]) }, { base: ["-@1", "-@2", "c@3", "x@1"] }],
    ["EXTRA_LABELS may fix __tenant_id__ (OMIT_EXTRA_LABELS_PREFIX=true): it wins over TENANT_ID",
      { EXTRA_LABELS: "__tenant_id__,fixed", OMIT_EXTRA_LABELS_PREFIX: "true", TENANT_ID: "base" }, { fixed: ["-@1", "-@2", "c@3", "x@1"] }],
    ["a relabeled __tenant_id__ Loki would refuse drops those entries (invalid_tenant) rather than send them elsewhere",
      { RELABEL_CONFIGS: byGroup("$1|x"), TENANT_ID: "base" }, { base: ["c@3"] }, { invalid_tenant: 3 }],
    ["the same through the stages: the value is checked after the last stage",
      { RELABEL_CONFIGS: byGroup("$1|x"), TENANT_ID: "base", LOKI_STAGE_CONFIGS: stages([TEAM]) }, { base: ["c@3"] }, { invalid_tenant: 3 }],
    ["a stream left with __tenant_id__ alone has no labels: it is dropped, never pushed as {}",
      { RELABEL_CONFIGS: JSON.stringify([...JSON.parse(byGroup()), { regex: "__tenant_id__", action: "labelkeep" }]), TENANT_ID: "base" }, {}],
  ];
  for (const [what, env, tenants, dropped] of cases) {
    it(what, async () => {
      harness.configure({ PUSH_CONCURRENCY: "1", ...env });
      const { result, logs } = await invoke(RECORDS);
      expect(result).to.deep.equal({ batchItemFailures: [] });
      expect(linesByTenant(loki.acceptedPushes())).to.deep.equal(tenants);
      const labels = loki.acceptedPushes().flatMap((push) => push.streams.map((stream) => stream.labels));
      expect(labels.filter((l) => l.includes("__tenant_id__") || l === "{}"), "stream labels sent to Loki").to.deep.equal([]);
      const summary = logs.find((line) => line.message === "invocation summary");
      expect(summary?.stageDropped).to.deep.equal(dropped ?? {});
    });
  }

  it("a tenant Loki refuses fails only the records with entries for it, as with the tenant stage", async () => {
    // One entry per push, so the refusal of b comes before r3 is read.
    harness.configure({ RELABEL_CONFIGS: byGroup(), TENANT_ID: "base", PUSH_CONCURRENCY: "1", BATCH_SIZE: "16" });
    loki.refuseTenant("b", 401);
    const { result } = await invoke(RECORDS);
    expect(result).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "2" }] });
    expect(linesByTenant(loki.acceptedPushes())).to.deep.equal({ a: ["-@1", "x@1"], base: ["c@3"] });
  });

  it("never sends a tenant id with a character Loki refuses (a 400 storing nothing): those entries are dropped as invalid_tenant", async () => {
    // A multi-tenant Loki answers "tenant ID 'team a' contains unsupported character ' '" with
    // 400 before reading the push; the shipper takes a 400 for "the valid entries were stored".
    loki.requireTenant();
    harness.configure({ RELABEL_CONFIGS: byGroup("team $1"), TENANT_ID: "base", PUSH_CONCURRENCY: "1" });
    const { result, logs } = await invoke(RECORDS);
    expect(result).to.deep.equal({ batchItemFailures: [] });
    expect(loki.requests.map((r) => r.headers["x-scope-orgid"])).to.deep.equal(["base"]);
    expect(linesByTenant(loki.acceptedPushes())).to.deep.equal({ base: ["c@3"] });
    const summary = logs.find((line) => line.message === "invocation summary");
    expect(summary?.stageDropped).to.deep.equal({ invalid_tenant: 3 });
    expect(summary).to.include({ rejected: 0 });
  });
});
