/**
 * The tenant stage (Promtail's): which X-Scope-OrgID an entry is pushed under, written as
 * Promtail writes it, in the reserved `__tenant_id__` label. The grouping of pushes by tenant is
 * tested through the handler in handler-tenants.test.ts.
 */
import { expect } from "chai";
import { compileStages } from "../handler/stages/index";
import { stageContext, stageEntry, stageRefusal } from "./support/stages";

function runTenant(stages: unknown[], init: Parameters<typeof stageEntry>[0]): { tenant?: string; dropped?: string } {
  const entry = stageEntry(init);
  const result = compileStages(stages, "LOKI_STAGE_CONFIGS").run(entry, stageContext());
  return { tenant: entry.labels.__tenant_id__, dropped: result?.drop };
}

describe("stages: tenant", () => {
  const cases: Array<[what: string, stages: unknown[], init: Parameters<typeof stageEntry>[0], expected: { tenant?: string; dropped?: string }]> = [
    ["value sets a fixed tenant", [{ tenant: { value: "team-a" } }], {}, { tenant: "team-a" }],
    ["source reads an extracted value", [{ json: { expressions: { team: "" } } }, { tenant: { source: "team" } }], { line: '{"team":"payments"}' }, { tenant: "payments" }],
    ["source reads a number as Go prints it", [{ json: { expressions: { team: "" } } }, { tenant: { source: "team" } }], { line: '{"team":42}' }, { tenant: "42" }],
    ["a missing source leaves the tenant alone", [{ tenant: { source: "team" } }], { line: "x" }, { tenant: undefined }],
    ["an empty source leaves the tenant alone", [{ tenant: { source: "team" } }], { extracted: { team: "" } }, { tenant: undefined }],
    ["an object source has no text and leaves the tenant alone", [{ tenant: { source: "team" } }], { extracted: { team: { a: 1 } } }, { tenant: undefined }],
    ["label reads one of the entry's labels", [{ tenant: { label: "app" } }], { labels: { app: "web" } }, { tenant: "web" }],
    ["label does not read an extracted value", [{ tenant: { label: "team" } }], { labels: { app: "web" }, extracted: { team: "x" } }, { tenant: undefined }],
    ["a later tenant stage wins", [{ tenant: { value: "a" } }, { tenant: { value: "b" } }], {}, { tenant: "b" }],
    ["it replaces a __tenant_id__ set before the stages", [{ tenant: { value: "b" } }], { labels: { __tenant_id__: "a" } }, { tenant: "b" }],
    ["a missing source keeps a __tenant_id__ set before the stages", [{ tenant: { source: "team" } }], { labels: { __tenant_id__: "a" } }, { tenant: "a" }],
    ["a later labels stage writing __tenant_id__ wins over it", [{ tenant: { value: "a" } }, { json: { expressions: { team: "" } } }, { labels: { __tenant_id__: "team" } }], { line: '{"team":"b"}' }, { tenant: "b" }],
    ["a later labeldrop of __tenant_id__ takes it back", [{ tenant: { value: "a" } }, { labeldrop: ["__tenant_id__"] }], {}, { tenant: undefined }],
    ["a nested match sets it for matching entries only", [{ match: { selector: '{app="web"}', stages: [{ tenant: { value: "web-team" } }] } }], { labels: { app: "web" } }, { tenant: "web-team" }],
    ["an extracted value that is no tenant id drops the entry", [{ tenant: { source: "team" } }], { extracted: { team: "a|b" } }, { dropped: "invalid_tenant" }],
    ["an over-long tenant id drops the entry", [{ tenant: { source: "team" } }], { extracted: { team: "t".repeat(151) } }, { dropped: "invalid_tenant" }],
    // Loki (dskit's ValidTenantID) answers 400 and stores nothing for any character but these.
    ["every character Loki accepts in a tenant id is kept", [{ tenant: { source: "team" } }], { extracted: { team: "Az09!-_.*'()" } }, { tenant: "Az09!-_.*'()" }],
    ...[" ", "/", ":", "@", "#", "+", "=", "é", "\t", "%"].map((c): [string, unknown[], Parameters<typeof stageEntry>[0], { dropped: string }] =>
      [`a tenant id with ${JSON.stringify(c)} drops the entry`, [{ tenant: { source: "team" } }], { extracted: { team: `team${c}a` } }, { dropped: "invalid_tenant" }]),
  ];
  for (const [what, stages, init, expected] of cases) {
    it(what, () => expect(runTenant(stages, init)).to.deep.equal({ tenant: expected.tenant, dropped: expected.dropped }));
  }

  const refused: Array<[options: unknown, setting: string, problem: RegExp]> = [
    [{}, "LOKI_STAGE_CONFIGS[0].tenant.source", /is not set, and neither is label or value/],
    [null, "LOKI_STAGE_CONFIGS[0].tenant.source", /is not set/],
    [{ source: "a", value: "b" }, "LOKI_STAGE_CONFIGS[0].tenant.value", /cannot be set together with source/],
    [{ label: "a", value: "b" }, "LOKI_STAGE_CONFIGS[0].tenant.value", /cannot be set together with label/],
    [{ value: "a|b" }, "LOKI_STAGE_CONFIGS[0].tenant.value", /"a\|b" is not a valid tenant id/],
    [{ value: ".." }, "LOKI_STAGE_CONFIGS[0].tenant.value", /is not a valid tenant id/],
    [{ value: "team a" }, "LOKI_STAGE_CONFIGS[0].tenant.value", /"team a" is not a valid tenant id/],
    [{ tenant_id: "a" }, "LOKI_STAGE_CONFIGS[0].tenant.tenant_id", /is not an option of this stage/],
  ];
  for (const [options, setting, problem] of refused) {
    it(`refuses ${JSON.stringify(options)}, naming ${setting}`, () => {
      const err = stageRefusal([{ tenant: options }]);
      expect(err.setting).to.equal(setting);
      expect(err.problem).to.match(problem);
    });
  }
});
