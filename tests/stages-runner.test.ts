/**
 * The stage runner's sharing: every entry of a stream starts with the stream's frozen label set,
 * and a stage that sets a label moves the entry to a frozen set shared by every entry that got
 * the same value (handler/stages/types.ts setLabel). Each entry must still end in exactly the
 * stream its own labels name, and no entry's changes may reach another's.
 */
import { expect } from "chai";
import { createLabelPipeline } from "../handler/labels/pipeline";
import { formatLabels } from "../handler/labels/names";
import { compileStages } from "../handler/stages/index";
import { StageRunner, type StagedEntry } from "../handler/stages/runner";
import { MAX_LABEL_TRANSITIONS } from "../handler/stages/types";
import type { Labels, LogEntry } from "../handler/types";
import { MemoryLog } from "./support/events";

const stream = createLabelPipeline({ extraLabels: {}, dropLabels: [], relabelRules: [] })({ app: "checkout", env: "prod" });
if (stream === null) throw new Error("the stream's labels were dropped");

function runner(stages: unknown[]): StageRunner {
  return new StageRunner(compileStages(stages, "LOKI_STAGE_CONFIGS"), new MemoryLog());
}

function keyOf(staged: StagedEntry): string {
  if ("drop" in staged) throw new Error(`dropped: ${staged.drop}`);
  return staged.key;
}

const line = (fields: Record<string, unknown>): LogEntry => ({ sec: 1, nsec: 0, line: JSON.stringify(fields) });
const key = (labels: Labels) => formatLabels(labels);

describe("stages runner: shared label sets", () => {
  it("puts each entry in the stream of its own labels when entries alternate between values", () => {
    const stages = runner([{ json: { expressions: { level: "" } } }, { labels: { level: "" } }]);
    const levels = ["info", "error", "info", "warn", "error", "info"];
    expect(levels.map((level) => keyOf(stages.run(stream, line({ level }))))).to.deep.equal(levels.map((level) => key({ app: "checkout", env: "prod", level })));
  });

  it("a later stage that changes a shared set changes only its own entry's copy", () => {
    const stages = runner([
      { json: { expressions: { level: "" } } },
      { labels: { level: "" } },
      { match: { selector: '{level="error"}', stages: [{ labeldrop: ["env"] }, { static_labels: { alert: "yes" } }] } },
    ]);
    const keys = ["info", "error", "info", "error"].map((level) => keyOf(stages.run(stream, line({ level }))));
    expect(keys).to.deep.equal([
      key({ app: "checkout", env: "prod", level: "info" }),
      key({ alert: "yes", app: "checkout", level: "error" }),
      key({ app: "checkout", env: "prod", level: "info" }),
      key({ alert: "yes", app: "checkout", level: "error" }),
    ]);
    expect(stream.labels).to.deep.equal({ app: "checkout", env: "prod" });
  });

  it("chains two labels through shared sets, and setting the value a label already has changes nothing", () => {
    const stages = runner([{ json: { expressions: { level: "", app: "" } } }, { labels: { level: "", app: "" } }]);
    expect(keyOf(stages.run(stream, line({ level: "info", app: "checkout" })))).to.equal(key({ app: "checkout", env: "prod", level: "info" }));
    expect(keyOf(stages.run(stream, line({ level: "info", app: "cart" })))).to.equal(key({ app: "cart", env: "prod", level: "info" }));
    expect(keyOf(stages.run(stream, line({ app: "checkout" })))).to.equal(stream.key);
  });

  it(`keys every entry right when a label takes more than MAX_LABEL_TRANSITIONS (${MAX_LABEL_TRANSITIONS}) values on one set`, () => {
    const stages = runner([{ json: { expressions: { user: "" } } }, { labels: { user: "" } }]);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < MAX_LABEL_TRANSITIONS + 500; i++) {
        expect(keyOf(stages.run(stream, line({ user: `u${i}` })))).to.equal(key({ app: "checkout", env: "prod", user: `u${i}` }));
      }
    }
    expect(stream.labels).to.deep.equal({ app: "checkout", env: "prod" });
  });

  it("leaves a caller's unfrozen label set alone", () => {
    const labels = { app: "checkout" };
    const stages = runner([{ static_labels: { env: "dev" } }]);
    expect(keyOf(stages.run({ labels, key: key(labels) }, line({})))).to.equal(key({ app: "checkout", env: "dev" }));
    expect(labels).to.deep.equal({ app: "checkout" });
  });

  it("structured_metadata writes the entry's own metadata, never the shared metadata it started with", () => {
    const shared = Object.freeze({ cloudwatch_log_stream: "s1" });
    const stages = runner([{ json: { expressions: { request_id: "id" } } }, { structured_metadata: { request_id: "" } }]);
    const outs = ["a", "b"].map((id) => stages.run(stream, { ...line({ id }), metadata: shared }));
    expect(outs.map((out) => ("entry" in out ? out.entry.metadata : undefined))).to.deep.equal([
      { cloudwatch_log_stream: "s1", request_id: "a" },
      { cloudwatch_log_stream: "s1", request_id: "b" },
    ]);
    expect(shared).to.deep.equal({ cloudwatch_log_stream: "s1" });
  });
});
