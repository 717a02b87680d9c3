/**
 * The pack on LOKI_STAGE_CONFIGS: the labels the stages can create count toward the label limit
 * (and labelallow / labeldrop reduce them), a `labels` stage fed by a value parsed from the line
 * and named like an unbounded value is refused, and a stage that copies a high-cardinality label
 * (the log stream) is caught like a relabel rule. Stage JSON as users write it for Promtail.
 */
import { expect } from "chai";
import { unboundedKind, words } from "../policy/analysis/high-cardinality-fields";
import { jmesPathFields, STAGE_EFFECTS, StagePlan } from "../policy/analysis/stage-labels";
import { decidedLabels } from "../policy/analysis/cardinality";
import { compileRelabelConfigs } from "../handler/labels/relabel";
import { policies } from "../policy/policies";
import { STAGES } from "../handler/stages";
import { fake, FakeResource, PackConfig, runPack, UNKNOWN } from "./support/policy-harness";

const GROUP = "/aws/lambda/app";
const BASE = { __aws_log_type: "cloudwatch", __aws_cloudwatch_log_group: GROUP, __aws_cloudwatch_owner: "123456789012" };

/** A shipper subscribed to one log group, with these stages (and other settings). */
function stack(stages: unknown[] | undefined, env: Record<string, string> = {}): FakeResource[] {
  const fn = fake.shipper("shipper", { ...(stages ? { LOKI_STAGE_CONFIGS: JSON.stringify(stages) } : {}), ...env });
  return [fn, fake.subscriptionFilter("f", GROUP, fn), fake.logGroup("/aws/lambda/shipper", { retentionInDays: 7 })];
}

/** Label names of each path's outcome (null: dropped), with `~` marking values parsed from the line. */
function paths(stages: unknown[], base: Record<string, string> = BASE): (string[] | null)[] {
  return new StagePlan(stages).outcomes(base).map((o) => {
    if (o === null) return null;
    const fromLine = new Set(o.fromLine.map((l) => l.label));
    return Object.keys(o.labels).sort().map((n) => (fromLine.has(n) ? `${n}~` : `${n}=${o.labels[n]}`));
  });
}

const AWS = ["__aws_cloudwatch_log_group=/aws/lambda/app", "__aws_cloudwatch_owner=123456789012", "__aws_log_type=cloudwatch"];

describe("stage analysis: the labels LOKI_STAGE_CONFIGS can give an entry", () => {
  const cases: { name: string; stages: unknown[]; expected: (string[] | null)[] }[] = [
    { name: "parsing alone changes no label", stages: [{ json: { expressions: { level: "", msg: "" } } }], expected: [AWS] },
    { name: "json + labels: a label from the line", stages: [{ json: { expressions: { level: "level" } } }, { labels: { level: "" } }], expected: [[...AWS, "level~"]] },
    { name: "labels from a name nothing extracts: nothing", stages: [{ labels: { level: "" } }], expected: [AWS] },
    { name: "labels from a label: its known value", stages: [{ labels: { group: "__aws_cloudwatch_log_group" } }], expected: [[...AWS, "group=/aws/lambda/app"].sort()] },
    { name: "static_labels", stages: [{ static_labels: { env: "prod" } }], expected: [[...AWS, "env=prod"]] },
    { name: "labelallow keeps the listed ones", stages: [{ logfmt: { mapping: { level: "lvl" } } }, { labels: { level: "" } }, { labelallow: ["level", "__aws_log_type"] }], expected: [["__aws_log_type=cloudwatch", "level~"]] },
    { name: "labeldrop removes", stages: [{ labeldrop: ["__aws_cloudwatch_owner"] }], expected: [["__aws_cloudwatch_log_group=/aws/lambda/app", "__aws_log_type=cloudwatch"]] },
    { name: "pack moves labels into the line", stages: [{ pack: { labels: ["__aws_cloudwatch_owner"] } }], expected: [["__aws_cloudwatch_log_group=/aws/lambda/app", "__aws_log_type=cloudwatch"]] },
    {
      name: "regex on a label runs for real",
      stages: [{ regex: { source: "__aws_cloudwatch_log_group", expression: "^/aws/lambda/(?P<fn>[^/]+)$" } }, { labels: { function: "fn" } }],
      expected: [[...AWS, "function=app"]],
    },
    { name: "regex on the line: its named groups", stages: [{ regex: { expression: "^(?P<ip>\\S+) (?P<method>[A-Z]+)" } }, { labels: { method: "", ip: "" } }], expected: [[...AWS, "ip~", "method~"]] },
    {
      name: "match: nested stages run on some entries",
      stages: [{ match: { selector: '{__aws_log_type="cloudwatch"}', stages: [{ json: { expressions: { user: "" } } }, { labels: { user: "" } }] } }],
      expected: [AWS, [...AWS, "user~"]],
    },
    { name: "match with action drop", stages: [{ match: { selector: '{__aws_log_type="cloudwatch"} |= "healthz"', action: "drop" } }], expected: [AWS, null] },
    {
      name: "two matches: four paths",
      stages: [
        { match: { selector: '{__aws_log_type="cloudwatch"}', stages: [{ static_labels: { a: "1" } }] } },
        { match: { selector: '{__aws_log_type="cloudwatch"}', stages: [{ static_labels: { b: "2" } }] } },
      ],
      expected: [AWS, [...AWS, "b=2"], [...AWS, "a=1"], [...AWS, "a=1", "b=2"]],
    },
    {
      name: "a template that only tests the line gives a known value",
      stages: [{ template: { source: "severity", template: '{{ if contains "ERROR" .Entry }}error{{ else }}info{{ end }}' } }, { labels: { severity: "" } }],
      expected: [[...AWS, "severity=info"]],
    },
    {
      name: "a template that follows a parsed value gives a value from the line",
      stages: [{ json: { expressions: { rid: "requestId" } } }, { template: { source: "rid", template: "{{ Hash .Value \"salt\" }}" } }, { labels: { request: "rid" } }],
      expected: [[...AWS, "request~"]],
    },
    { name: "an empty template output removes the value", stages: [{ template: { source: "x", template: "" } }, { labels: { x: "" } }], expected: [AWS] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(paths(c.stages)).to.deep.equal(c.expected.map((p) => (p === null ? null : [...p].sort())));
    });
  }

  it("records where a label's value came from", () => {
    const plan = new StagePlan([{ json: { expressions: { rid: "headers.\"x-request-id\"" } } }, { template: { source: "rid", template: "{{ ToLower .Value }}" } }, { labels: { r: "rid" } }]);
    const [outcome] = plan.outcomes(BASE);
    expect(outcome?.fromLine).to.deep.equal([{ label: "r", where: "LOKI_STAGE_CONFIGS[2].labels", value: { where: "LOKI_STAGE_CONFIGS[1].template", names: ["rid", "rid", "x-request-id"] } }]);
  });

  it("classifies every stage the handler runs", () => {
    expect(Object.keys(STAGES).filter((name) => !Object.hasOwn(STAGE_EFFECTS, name)), "add the stage to STAGE_EFFECTS in policy/analysis/stage-labels.ts").to.deep.equal([]);
  });

  it("reads the field a JMESPath expression takes its value from", () => {
    const table: [string, string[]][] = [
      ["level", ["level"]],
      ["log.level", ["level"]],
      ["items[0].id", ["id"]],
      ['headers."x-request-id"', ["x-request-id"]],
      ["to_string(requestId)", ["requestId"]],
      ["join(',', tags[*])", []],
      ["`\"literal\"`", []],
    ];
    for (const [expression, fields] of table) expect(jmesPathFields(expression), expression).to.deep.equal(fields);
  });
});

describe("names of unbounded values (policy/analysis/high-cardinality-fields.ts)", () => {
  it("splits names into words", () => {
    expect(words("requestId")).to.deep.equal(["request", "id"]);
    expect(words("x-amzn-RequestId")).to.deep.equal(["x", "amzn", "request", "id"]);
    expect(words("HTTPStatus")).to.deep.equal(["http", "status"]);
    expect(words("@timestamp")).to.deep.equal(["timestamp"]);
  });

  const unbounded: [string, string][] = [
    ["request_id", "an identifier"],
    ["requestId", "an identifier"],
    ["x-amzn-trace-id", "an identifier"],
    ["traceID", "an identifier"],
    ["span_id", "an identifier"],
    ["trace", "an identifier"],
    ["session", "an identifier"],
    ["uuid", "an identifier"],
    ["id", "an identifier"],
    ["tenant_id", "an identifier"],
    ["timestamp", "a timestamp or duration"],
    ["@timestamp", "a timestamp or duration"],
    ["ts", "a timestamp or duration"],
    ["created_at", "a timestamp or duration"],
    ["duration_ms", "a timestamp or duration"],
    ["latency", "a timestamp or duration"],
    ["client_ip", "a network address"],
    ["remote_addr", "a network address"],
    ["x_forwarded_for", "a network address"],
    ["user", "a user"],
    ["user_id", "an identifier"],
    ["email", "a user"],
    ["msg", "free text"],
    ["message", "free text"],
    ["user_agent", "free text"],
    ["path", "a URL or path"],
    ["request_uri", "a URL or path"],
    ["response_bytes", "a size or count"],
  ];
  for (const [name, kind] of unbounded) it(`${name}: ${kind}`, () => expect(unboundedKind(name)).to.equal(kind));

  it("lets bounded names pass", () => {
    for (const name of ["level", "severity", "status", "status_code", "method", "app", "service", "env", "region", "account_id", "cluster_id", "function_id", "host", "component", "logger", "stream", "type", "client", "error", "key", "format", "idle"]) {
      expect(unboundedKind(name), name).to.equal(undefined);
    }
  });
});

describe("policy stage-label-high-cardinality", () => {
  const cases: { name: string; stages: unknown[]; flagged: string[]; config?: PackConfig }[] = [
    { name: "json level -> label", stages: [{ json: { expressions: { level: "" } } }, { labels: { level: "" } }], flagged: [] },
    { name: "json request_id -> label", stages: [{ json: { expressions: { request_id: "" } } }, { labels: { request_id: "" } }], flagged: ['label "request_id" (LOKI_STAGE_CONFIGS[1].labels.request_id)'] },
    { name: "an innocent name over requestId", stages: [{ json: { expressions: { rid: "requestId" } } }, { labels: { r: "rid" } }], flagged: ['label "r" (LOKI_STAGE_CONFIGS[1].labels.r)'] },
    { name: "regex client_ip group", stages: [{ regex: { expression: "^(?P<client_ip>\\S+) " } }, { labels: { client_ip: "" } }], flagged: ['label "client_ip" (LOKI_STAGE_CONFIGS[1].labels.client_ip)'] },
    { name: "logfmt ts", stages: [{ logfmt: { mapping: { t: "ts" } } }, { labels: { t: "" } }], flagged: ['label "t" (LOKI_STAGE_CONFIGS[1].labels.t)'] },
    { name: "the message through a template", stages: [{ template: { source: "m", template: "{{ trunc 20 .Entry }}" } }, { labels: { m: "" } }], flagged: ['label "m" (LOKI_STAGE_CONFIGS[1].labels.m)'] },
    { name: "a severity tested from the line", stages: [{ template: { source: "sev", template: '{{ if contains "ERROR" .Entry }}error{{ else }}info{{ end }}' } }, { labels: { sev: "" } }], flagged: [] },
    { name: "a user id in a match", stages: [{ match: { selector: '{__aws_log_type="cloudwatch"}', stages: [{ json: { expressions: { user_id: "user.id" } } }, { labels: { user_id: "" } }] } }], flagged: ['label "user_id" (LOKI_STAGE_CONFIGS[0].match.stages[1].labels.user_id)'] },
    { name: "set, then dropped", stages: [{ json: { expressions: { trace_id: "" } } }, { labels: { trace_id: "" } }, { labeldrop: ["trace_id"] }], flagged: [] },
    { name: "kept as structured metadata", stages: [{ json: { expressions: { trace_id: "" } } }, { structured_metadata: { trace_id: "" } }], flagged: [] },
    { name: "allowed by configuration", stages: [{ json: { expressions: { path: "" } } }, { labels: { path: "" } }], flagged: [], config: { "stage-label-high-cardinality": { lowCardinalityLabels: ["path"] } } },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.flagged.length === 0 ? "passes" : "fails"}`, async () => {
      const result = await runPack(policies, stack(c.stages), c.config);
      const messages = result.messages("stage-label-high-cardinality");
      expect(messages.map((m) => /makes (label "[^"]+" \([^)]+\))/.exec(m)?.[1])).to.deep.equal(c.flagged);
      expect(result.mandatory().map((v) => v.policy)).to.deep.equal(c.flagged.map(() => "stage-label-high-cardinality"));
    });
  }

  it("names the setting, the source field and the structured-metadata fix", async () => {
    const [message] = (await runPack(policies, stack([{ json: { expressions: { rid: "requestId" } } }, { labels: { r: "rid" } }]))).messages("stage-label-high-cardinality");
    expect(message)
      .to.contain('LOKI_STAGE_CONFIGS (stack config stageConfigs) on function "shipper" makes label "r"')
      .and.contain('(by LOKI_STAGE_CONFIGS[0].json, from "rid", "requestId"); "requestId" names an identifier')
      .and.contain('{"structured_metadata": {"r": "…"}}');
  });

  it("judges a function carrying the telemetry extension the same way", async () => {
    const fn = fake.withExtension("app", { LOKI_STAGE_CONFIGS: JSON.stringify([{ json: { expressions: { requestId: "" } } }, { labels: { requestId: "" } }]) });
    const result = await runPack(policies, [fn]);
    expect(result.mandatory().map((v) => v.policy)).to.deep.equal(["stage-label-high-cardinality"]);
    expect(result.messages()[0]).to.contain('LOKI_STAGE_CONFIGS on the telemetry extension of function "app" makes label "requestId"');
  });
});

describe("label-limit counts the labels stages create", () => {
  // The CloudWatch labels (3) + service_name + 8 extra labels = 12; stages add the rest.
  const extra = { EXTRA_LABELS: Array.from({ length: 8 }, (_, i) => `e${i},v`).join(",") };
  const cases: { name: string; stages: unknown[]; over?: number }[] = [
    { name: "three static labels: 15, at the limit", stages: [{ static_labels: { a: "1", b: "2", c: "3" } }] },
    { name: "four static labels: 16", stages: [{ static_labels: { a: "1", b: "2", c: "3", d: "4" } }], over: 16 },
    { name: "labels from the line count", stages: [{ json: { expressions: { level: "", app: "", svc: "", component: "" } } }, { labels: { level: "", app: "", svc: "", component: "" } }], over: 16 },
    { name: "a labeldrop brings it back", stages: [{ static_labels: { a: "1", b: "2", c: "3", d: "4" } }, { labeldrop: ["__aws_cloudwatch_owner"] }] },
    { name: "a labelallow keeps few", stages: [{ static_labels: { a: "1", b: "2", c: "3", d: "4" } }, { labelallow: ["a", "b", "__aws_cloudwatch_log_group"] }] },
    { name: "labels a match may add count", stages: [{ static_labels: { a: "1", b: "2", c: "3" } }, { match: { selector: '{a="1"}', stages: [{ static_labels: { d: "4", e: "5" } }] } }], over: 17 },
    { name: "a label set twice counts once", stages: [{ static_labels: { a: "1", b: "2", c: "3" } }, { static_labels: { a: "x" } }] },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.over ? `fails with ${c.over}` : "passes"}`, async () => {
      const result = await runPack(policies, stack(c.stages, extra));
      const messages = result.messages("label-limit");
      if (!c.over) {
        expect(messages).to.deep.equal([]);
        return;
      }
      expect(messages).to.have.length(1);
      expect(messages[0]).to.contain(`would carry ${c.over} label names`).and.contain("LOKI_STAGE_CONFIGS");
    });
  }
});

describe("label-limit: a match stage counts only on the paths entries can take", () => {
  // As above: 12 labels before the stages; the match's stages add 4 (16, over the limit of 15) on its path only.
  const extra = { EXTRA_LABELS: Array.from({ length: 8 }, (_, i) => `e${i},v`).join(",") };
  const FOUR = [{ static_labels: { a: "1", b: "2", c: "3", d: "4" } }];
  const matching = (selector: string, before: unknown[] = []) => [...before, { match: { selector, stages: FOUR } }];
  const fromGroup = JSON.stringify([{ source_labels: ["__aws_cloudwatch_log_group"], regex: "/aws/lambda/(.*)", target_label: "fn" }]);
  const fromOwner = JSON.stringify([{ source_labels: ["__aws_cloudwatch_owner"], target_label: "acct" }]);
  const cases: Array<[what: string, stages: unknown[], env: Record<string, string>, over?: number, sources?: RegExp]> = [
    ["another log type: never taken", matching('{__aws_log_type="s3_lb"}'), {}],
    ["another log type with a line filter: never taken", matching('{__aws_log_type="s3_lb"} |= "GET"'), {}],
    ["its own log type: always taken", matching('{__aws_log_type="cloudwatch"}'), {}, 16],
    ["its own log type with a line filter: may be taken", matching('{__aws_log_type="cloudwatch"} |= "GET"'), {}, 16],
    ["another log group the stack names: never taken", matching('{__aws_cloudwatch_log_group="/aws/lambda/other"}'), {}],
    ["its own log group: taken", matching('{__aws_cloudwatch_log_group=~"/aws/lambda/a.*"}'), {}, 16],
    ["an EXTRA_LABELS value that differs: never taken", matching('{e0="other"}'), {}],
    ["a label relabeled from the known log group decides it (13 labels before the stages)", matching('{fn="other"}'), { RELABEL_CONFIGS: fromGroup }],
    ["the same label with its value: taken", matching('{fn="app"}'), { RELABEL_CONFIGS: fromGroup }, 17],
    ["the owner is a placeholder: counted (upper bound)", matching('{__aws_cloudwatch_owner="999999999999"}'), {}, 16],
    ["a label relabeled from the placeholder owner: counted", matching('{acct="x"}'), { RELABEL_CONFIGS: fromOwner }, 17],
    ["a label a labels stage wrote from the line: counted", matching('{team="x"}', [{ json: { expressions: { team: "" } } }, { labels: { team: "" } }]), {}, 17],
    ["a static label decides it", matching('{a="other"}', [{ static_labels: { a: "1" } }]), {}],
    ["without declared sources every kind is judged: only S3 ALB logs take it",
      [{ match: { selector: '{__aws_log_type="s3_lb"}', stages: FOUR } }], { SOURCES: "none" }, 16, /S3 ALB access logs/],
  ];
  for (const [what, stages, env, over, sources] of cases) {
    it(`${what}: ${over ? `fails with ${over}` : "passes"}`, async () => {
      const { SOURCES, ...settings } = env;
      const resources = SOURCES === "none" ? [fake.shipper("shipper", { LOKI_STAGE_CONFIGS: JSON.stringify(stages), ...extra, ...settings })] : stack(stages, { ...extra, ...settings });
      const messages = (await runPack(policies, resources)).messages("label-limit");
      if (!over) {
        expect(messages).to.deep.equal([]);
        return;
      }
      expect(messages).to.have.length(1);
      expect(messages[0]).to.contain(`would carry ${over} label names`);
      if (sources) expect(messages[0]).to.match(sources).and.not.contain("CloudWatch");
    });
  }

  it("__tenant_id__ written by a stage picks the tenant and is no label: 15, at the limit", async () => {
    const result = await runPack(policies, stack([{ static_labels: { __tenant_id__: "team-a", a: "1", b: "2", c: "3" } }], extra));
    expect(result.messages("label-limit")).to.deep.equal([]);
  });
});

describe("decided labels: what every entry of a source has for sure", () => {
  const template = { source: "t", base: { __aws_log_type: "cloudwatch", __aws_cloudwatch_log_group: GROUP, __aws_cloudwatch_owner: "123456789012", __aws_tag_team: "tag-value-1" }, varying: [], known: ["__aws_log_type", "__aws_cloudwatch_log_group"] };
  const rules = (json: unknown[]) => compileRelabelConfigs(json);
  const cases: Array<[what: string, config: Partial<Parameters<typeof decidedLabels>[1]>, decided: string[], undecided: string[]]> = [
    ["known base labels and absent names are decided; placeholders are not", {}, ["__aws_log_type", "__aws_cloudwatch_log_group", "nothing_sets_this"], ["__aws_cloudwatch_owner", "__aws_tag_team"]],
    ["EXTRA_LABELS and DROP_LABELS decide", { extraLabels: { __aws_cloudwatch_owner: "x" }, dropLabels: ["__aws_tag_team"] }, ["__aws_cloudwatch_owner", "__aws_tag_team"], []],
    ["a replace from decided labels is decided, from a placeholder it is not", { relabelRules: rules([{ source_labels: ["__aws_cloudwatch_log_group"], target_label: "g" }, { source_labels: ["__aws_cloudwatch_owner"], target_label: "o" }]) }, ["g"], ["o"]],
    ["a labelmap copies decidedness name by name", { relabelRules: rules([{ regex: "__aws_(.*)", action: "labelmap" }]) }, ["log_type", "cloudwatch_log_group"], ["cloudwatch_owner", "tag_team"]],
    ["a templated target_label decides nothing", { relabelRules: rules([{ source_labels: ["__aws_log_type"], regex: "(.*)", target_label: "x_$1" }]) }, [], ["__aws_log_type", "nothing_sets_this"]],
    ["a keep rule on a placeholder that drops the placeholder set decides nothing", { relabelRules: rules([{ source_labels: ["__aws_cloudwatch_owner"], regex: "999", action: "keep" }]) }, [], ["__aws_log_type"]],
    ["__tenant_id__ is never decided (the pack strips it from the labels)", { extraLabels: { __tenant_id__: "t" } }, [], ["__tenant_id__"]],
  ];
  for (const [what, config, decided, undecided] of cases) {
    it(what, () => {
      const isDecided = decidedLabels(template, { extraLabels: {}, dropLabels: [], relabelRules: [], ...config });
      expect(decided.filter((n) => !isDecided(n)), "should be decided").to.deep.equal([]);
      expect(undecided.filter(isDecided), "should be undecided").to.deep.equal([]);
    });
  }

  it("a TAG_LABELS pattern makes every name under its prefix undecided, and a labelmap then decides nothing", () => {
    const withPattern = { ...template, placeholderNamesPrefix: "__aws_tag_" };
    expect(decidedLabels(withPattern, { extraLabels: {}, dropLabels: [], relabelRules: [] })("__aws_tag_owner")).to.equal(false);
    expect(decidedLabels(withPattern, { extraLabels: {}, dropLabels: [], relabelRules: rules([{ regex: "x", action: "labelmap" }]) })("__aws_log_type")).to.equal(false);
  });

  it("StagePlan keeps impossible paths in place as null, so paths line up across base labels", () => {
    const stages = [{ match: { selector: '{__aws_log_type="s3_lb"}', stages: [{ static_labels: { a: "1" } }] } }, { match: { selector: '{__aws_log_type="cloudwatch"}', stages: [{ static_labels: { b: "2" } }] } }];
    const outcomes = new StagePlan(stages).outcomes(BASE, (name) => name === "__aws_log_type");
    expect(outcomes.map((o) => (o === null ? null : Object.keys(o.labels).filter((n) => n.length === 1)))).to.deep.equal([null, ["b"], null, null]);
    expect(new StagePlan(stages).outcomes(BASE).every((o) => o !== null), "without decided labels every path counts").to.equal(true);
  });
});

describe("stages that copy a high-cardinality label", () => {
  const STREAM = "__aws_cloudwatch_log_stream";
  it("a labels stage copying the log stream is caught, and attributed to the stages", async () => {
    const result = await runPack(policies, stack([{ labels: { stream: STREAM } }, { labeldrop: [STREAM] }], { KEEP_STREAM: "true" }));
    const [message] = result.messages("relabel-high-cardinality");
    expect(message).to.contain(`LOKI_STAGE_CONFIGS (stack config stageConfigs) on function "shipper" puts ${STREAM} into label "stream"`);
    expect(result.messages("keep-stream-label")[0]).to.contain('label "stream"');
  });

  it("a labeldrop stage of the stream satisfies keep-stream-label; a stable part of it passes", async () => {
    const stages = [{ regex: { source: STREAM, expression: "\\[(?P<version>[^\\]]+)\\]" } }, { labels: { version: "" } }, { labeldrop: [STREAM] }];
    const result = await runPack(policies, stack(stages, { KEEP_STREAM: "true" }));
    expect(result.violations.map((v) => v.policy)).to.deep.equal([]);
  });

  it("a stage list unknown at preview is noted, not judged", async () => {
    const result = await runPack(policies, stack(undefined, { LOKI_STAGE_CONFIGS: UNKNOWN }));
    expect(result.violations).to.deep.equal([]);
    expect(result.previewNotes.map((n) => n.policy).sort()).to.deep.equal(["extra-labels-per-deployment", "keep-stream-label", "label-limit", "relabel-high-cardinality", "stage-label-high-cardinality"]);
  });
});
