/**
 * `__proto__` is a valid extracted name and structured-metadata field name (Promtail's maps are
 * Go maps). The extracted map and metadata are ordinary JavaScript objects, on which a plain
 * assignment to `__proto__` calls Object.prototype's setter and the value silently disappears:
 * every stage that writes a name must keep it (handler/stages/types.ts setValue).
 */
import { expect } from "chai";
import { createLabelPipeline } from "../handler/labels/pipeline";
import { compileStages } from "../handler/stages/index";
import { StageRunner } from "../handler/stages/runner";
import { MemoryLog } from "./support/events";

const stream = createLabelPipeline({ extraLabels: {}, dropLabels: [], relabelRules: [] })({ app: "checkout" });
if (stream === null) throw new Error("the stream's labels were dropped");

/** Each row's stages leave "x" under the extracted name `__proto__`; its line is the input. */
const writers: { stage: string; line: string; stages: string }[] = [
  { stage: "json", line: '{"p":"x"}', stages: '[{"json":{"expressions":{"__proto__":"p"}}}]' },
  { stage: "json (the name itself as the expression)", line: '{"__proto__":"x"}', stages: '[{"json":{"expressions":{"__proto__":""}}}]' },
  { stage: "logfmt", line: "p=x", stages: '[{"logfmt":{"mapping":{"__proto__":"p"}}}]' },
  { stage: "regex", line: "p=x", stages: '[{"regex":{"expression":"p=(?P<__proto__>\\\\w+)"}}]' },
  { stage: "replace (named group)", line: "p=w", stages: '[{"replace":{"expression":"p=(?P<__proto__>\\\\w+)","replace":"x"}}]' },
  { stage: "replace (source)", line: "p=w", stages: '[{"regex":{"expression":"p=(?P<__proto__>\\\\w+)"}},{"replace":{"source":"__proto__","expression":"(w)","replace":"x"}}]' },
  { stage: "template", line: "", stages: '[{"template":{"source":"__proto__","template":"x"}}]' },
];

/** Stages from JSON text, as LOKI_STAGE_CONFIGS is read (an object literal's `__proto__` key would set its prototype instead). */
function run(stages: string, line: string) {
  const compiled = compileStages(JSON.parse(stages), "LOKI_STAGE_CONFIGS");
  const out = new StageRunner(compiled, new MemoryLog()).run(stream!, { sec: 1, nsec: 0, line });
  if ("drop" in out) throw new Error(`dropped: ${out.drop}`);
  return out.entry;
}

describe("stages: the name __proto__ is kept like any other", () => {
  for (const { stage, line, stages } of writers) {
    it(`${stage} writes it, structured_metadata and output read it`, () => {
      const readers = '{"structured_metadata":{"__proto__":""}},{"output":{"source":"__proto__"}}]';
      const entry = run(`${stages.slice(0, -1)},${readers}`, line);
      expect(Object.hasOwn(entry.metadata ?? {}, "__proto__"), "own metadata field").to.equal(true);
      expect(entry.metadata?.["__proto__"]).to.equal("x");
      expect(Object.keys(entry.metadata ?? {})).to.deep.equal(["__proto__"]);
      expect(entry.line).to.equal("x");
    });
  }
});
