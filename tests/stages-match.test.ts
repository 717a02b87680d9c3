import { expect } from "chai";
import { ConfigError } from "../handler/config";
import { compileStages } from "../handler/stages/index";
import { parseSelector } from "../handler/stages/logql";
import { match } from "../handler/stages/match";
import { template } from "../handler/stages/template";
import { timestamp } from "../handler/stages/timestamp";
import type { Stage, StageFactory } from "../handler/stages/types";
import { stageContext, stageEntry } from "./support/stages";

/** A stage that records that it ran. */
const probe: Stage = {
  name: "probe",
  process(entry) {
    entry.extracted.ran = true;
    return undefined;
  },
};
const probeOnly = (): Stage[] => [probe];

/** Nested stages built from the factories of this branch, so matches can nest. */
const FACTORIES: Record<string, StageFactory> = { match, template, timestamp };
function compileNested(stages: unknown, where: string): Stage[] {
  return (stages as Record<string, unknown>[]).map((element, i) => {
    const [name, options] = Object.entries(element)[0];
    return FACTORIES[name](options, `${where}[${i}].${name}`, compileNested);
  });
}

describe("LogQL selectors (handler/stages/logql.ts)", () => {
  it("reads label matchers and line filters with Go string literals, with the offset of each value", () => {
    const text = '{app="x", env=~"prod|dev", tier!="db", az!~`us-.*`} |= "a\\"b" != `c` |~ "5.." !~ "health"';
    const at = (s: string): number => text.indexOf(s);
    expect(parseSelector(text)).to.deep.equal({
      matchers: [
        { name: "app", op: "=", value: "x", at: at('"x"') },
        { name: "env", op: "=~", value: "prod|dev", at: at('"prod') },
        { name: "tier", op: "!=", value: "db", at: at('"db"') },
        { name: "az", op: "!~", value: "us-.*", at: at("`us") },
      ],
      filters: [
        { op: "|=", value: 'a"b', at: at('"a') },
        { op: "!=", value: "c", at: at("`c`") },
        { op: "|~", value: "5..", at: at('"5') },
        { op: "!~", value: "health", at: at('"health') },
      ],
    });
  });
});

describe("match stage", () => {
  // Promtail's TestMatcher table: selector, labels, action, should drop, should run nested stages.
  const cases: [string, Record<string, string>, "keep" | "drop", boolean, boolean][] = [
    ['{foo="bar"} |= "foo"', { foo: "bar" }, "keep", false, true],
    ['{foo="bar"} |~ "foo"', { foo: "bar" }, "keep", false, true],
    ['{foo="bar"} |= "bar"', { foo: "bar" }, "keep", false, false],
    ['{foo="bar"} |~ "bar"', { foo: "bar" }, "keep", false, false],
    ['{foo="bar"} != "bar"', { foo: "bar" }, "keep", false, true],
    ['{foo="bar"} !~ "bar"', { foo: "bar" }, "keep", false, true],
    ['{foo="bar"} != "foo"', { foo: "bar" }, "keep", false, false],
    ['{foo="bar"} |= "foo"', { foo: "bar" }, "drop", true, false],
    ['{foo="bar"} |~ "foo"', { foo: "bar" }, "drop", true, false],
    ['{foo="bar"} |= "bar"', { foo: "bar" }, "drop", false, false],
    ['{foo="bar"} |~ "bar"', { foo: "bar" }, "drop", false, false],
    ['{foo="bar"} != "bar"', { foo: "bar" }, "drop", true, false],
    ['{foo="bar"} !~ "bar"', { foo: "bar" }, "drop", true, false],
    ['{foo="bar"} != "foo"', { foo: "bar" }, "drop", false, false],
    ['{foo="bar"}', { foo: "bar" }, "keep", false, true],
    ['{foo=""}', { foo: "bar" }, "keep", false, false],
    ['{foo=""}', {}, "keep", false, true], // an absent label is ""
    ['{foo!="bar"}', { foo: "bar" }, "keep", false, false],
    ['{foo!="bar"}', { foo: "bar" }, "drop", false, false],
    ['{foo="bar",bar!="test"}', { foo: "bar" }, "keep", false, true],
    ['{foo="bar",bar!="test"}', { foo: "bar" }, "drop", true, false],
    ['{foo="bar",bar!="test"}', { foo: "bar", bar: "test" }, "keep", false, false],
    ['{foo="bar",bar=~"te.*"}', { foo: "bar", bar: "test" }, "drop", true, false],
    ['{foo="bar",bar=~"te.*"}', { foo: "bar", bar: "test" }, "keep", false, true],
    ['{foo="bar",bar!~"te.*"}', { foo: "bar", bar: "test" }, "keep", false, false],
    ['{foo="bar",bar!~"te.*"}', { foo: "bar", bar: "test" }, "drop", false, false],
    // Regex label matchers match the whole value; line regexes anywhere.
    ['{bar=~"te"}', { bar: "test" }, "keep", false, false],
    ['{bar=~"te|test"}', { bar: "test" }, "keep", false, true],
    ['{bar=~".*"}', { bar: "multi\nline" }, "keep", false, true], // (?s): . matches a newline, as Prometheus
    ['{bar=~""}', {}, "keep", false, true],
    ['{foo="bar"} |~ "^fo+$"', { foo: "bar" }, "keep", false, true],
    ['{foo="bar"} |= "f" |= "o" != "x"', { foo: "bar" }, "keep", false, true], // filters are ANDed
    ['{foo="bar"} |= "f" |= "z"', { foo: "bar" }, "keep", false, false],
  ];
  for (const [selector, labels, action, shouldDrop, shouldRun] of cases) {
    it(`${selector} on ${JSON.stringify(labels)}, ${action}: ${shouldDrop ? "drops" : shouldRun ? "runs the stages" : "passes the entry on"}`, () => {
      const stage = match(action === "keep" ? { selector, stages: [{}] } : { selector, action }, "m", probeOnly);
      const entry = stageEntry({ labels, line: "foo" });
      const result = stage.process(entry, stageContext());
      expect(result).to.deep.equal(shouldDrop ? { drop: "match_stage" } : undefined);
      expect(entry.extracted.ran === true).to.equal(shouldRun);
    });
  }

  it("counts drops under drop_counter_reason", () => {
    const stage = match({ selector: '{app="x"} |= "health"', action: "drop", drop_counter_reason: "healthcheck" }, "m", probeOnly);
    expect(stage.process(stageEntry({ labels: { app: "x" }, line: "GET /health" }), stageContext())).to.deep.equal({ drop: "healthcheck" });
  });

  it("runs real nested stages, including a nested match, and passes their drops on", () => {
    const config = {
      selector: '{app="api"}',
      pipeline_name: "api",
      stages: [
        { template: { source: "level", template: "{{ .Value | ToUpper }}" } },
        { match: { selector: '{app="api"} |= "noise"', action: "drop", drop_counter_reason: "noise" } },
        { timestamp: { source: "ts", format: "RFC3339" } },
      ],
    };
    const stage = match(config, "LOKI_STAGE_CONFIGS[0].match", compileNested);
    const kept = stageEntry({ labels: { app: "api" }, extracted: { app: "api", level: "warn", ts: "2024-01-02T03:04:05Z" }, line: "useful" });
    expect(stage.process(kept, stageContext())).to.equal(undefined);
    expect(kept.extracted.level).to.equal("WARN");
    expect(kept.sec).to.equal(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000);
    const noise = stageEntry({ labels: { app: "api" }, line: "noise" });
    expect(stage.process(noise, stageContext())).to.deep.equal({ drop: "noise" });
    const other = stageEntry({ labels: { app: "web" }, extracted: { level: "warn" }, line: "noise" });
    expect(stage.process(other, stageContext())).to.equal(undefined);
    expect(other.extracted.level).to.equal("warn");
  });

  it("is registered with timestamp and template: LOKI_STAGE_CONFIGS compiles them by name, nested", () => {
    const pipeline = compileStages(
      [{ match: { selector: '{app="api"} |~ "^GET"', stages: [{ template: { source: "path", template: "{{ TrimPrefix .Entry \"GET \" }}" } }, { timestamp: { source: "ts", format: "Unix" } }] } }],
      "LOKI_STAGE_CONFIGS",
    );
    const entry = stageEntry({ labels: { app: "api" }, extracted: { app: "api", ts: "1700000000" }, line: "GET /health" });
    expect(pipeline.run(entry, stageContext())).to.equal(undefined);
    expect([entry.extracted.path, entry.sec]).to.deep.equal(["/health", 1700000000]);
  });

  it("names nested stages' positions in their errors", () => {
    const config = { selector: '{app="api"}', stages: [{ timestamp: { source: "ts", format: "RFC3339" } }, { timestamp: { source: "ts", format: "yyyy" } }] };
    expect(() => match(config, "LOKI_STAGE_CONFIGS[4].match", compileNested)).to.throw(ConfigError, 'LOKI_STAGE_CONFIGS[4].match.stages[1].timestamp.format: "yyyy" is neither');
  });

  it("ReDoS: a pathological pattern on a 100 KB line returns (linear-time engine)", () => {
    const line = "a".repeat(100_000) + "b";
    const stage = match({ selector: '{app=~"(a+)+$"} |~ "(a+)+$"', action: "drop" }, "m", probeOnly);
    expect(stage.process(stageEntry({ labels: { app: line }, line }), stageContext())).to.equal(undefined);
  });

  const where = "LOKI_STAGE_CONFIGS[5].match";
  const errors: [string, unknown, string][] = [
    ["options not an object", [], `${where}: must be an object of options`],
    ["missing selector", { stages: [{}] }, `${where}.selector: is required`],
    ["empty pipeline_name", { selector: '{a="b"}', pipeline_name: "", stages: [{}] }, `${where}.pipeline_name: is empty`],
    ["keep without stages", { selector: '{a="b"}' }, `${where}.stages: missing: a match stage that keeps entries needs at least one stage`],
    ["keep with an empty list of stages", { selector: '{a="b"}', stages: [] }, `${where}.stages: missing`],
    ["drop with stages", { selector: '{a="b"}', action: "drop", stages: [{}] }, `${where}.stages: a match stage that drops entries cannot have stages`],
    ["unknown action", { selector: '{a="b"}', action: "nope", stages: [{}] }, `${where}.action: "nope" is not supported. Accepted form: keep (the default) or drop`],
    ["unknown option", { selector: '{a="b"}', stage: [{}] }, `${where}.stage: is not an option of this stage (did you mean "stages"?)`],
    ["not a selector", { selector: "foo", stages: [{}] }, `${where}.selector: "foo": syntax error near "foo" at column 1`],
    ["empty matchers", { selector: "{}", stages: [{}] }, `${where}.selector: "{}": syntax error near "}" at column 2`],
    ["unclosed selector", { selector: "{", stages: [{}] }, `${where}.selector: "{": syntax error: unexpected end of selector at column 2`],
    ["unterminated value", { selector: '{app="foo}', stages: [{}] }, `${where}.selector: "{app=\\"foo}": syntax error near "\\"foo}" at column 6`],
    ["bad label regex", { selector: '{app=~"[]"}', stages: [{}] }, `${where}.selector: "{app=~\\"[]\\"}": regex "[]": missing closing ]: \`[]\` at column 7`],
    ["bad line regex", { selector: '{foo="bar"} !~ "[]"', action: "drop" }, `${where}.selector: "{foo=\\"bar\\"} !~ \\"[]\\"": regex "[]": missing closing ]: \`[]\` at column 16`],
    ["a label filter (not in Promtail's selectors)", { selector: '{foo="bar"} |= "foo" | status >= 200', stages: [{}] }, `${where}.selector: "{foo=\\"bar\\"} |= \\"foo\\" | status >= 200": "| status >= 200" is not supported in a match selector`],
    ["a parser stage", { selector: '{foo="bar"} | json', stages: [{}] }, `${where}.selector: "{foo=\\"bar\\"} | json": "| json" is not supported`],
    ["an or in a line filter", { selector: '{a="b"} |= "x" or "y"', stages: [{}] }, `${where}.selector: "{a=\\"b\\"} |= \\"x\\" or \\"y\\"": unsupported line filter`],
    ["a metric query", { selector: 'rate({a="b"}[5m])', stages: [{}] }, `${where}.selector: "rate({a=\\"b\\"}[5m])": expected a stream selector`],
  ];
  for (const [name, options, message] of errors) {
    it(`refuses at cold start: ${name}`, () => {
      expect(() => match(options, where, probeOnly))
        .to.throw(ConfigError)
        .with.property("message")
        .that.satisfy((m: string) => m.startsWith(message));
    });
  }
});
