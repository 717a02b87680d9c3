/**
 * The pack stage: the line becomes JSON with the named values, their labels leave the stream,
 * and the timestamp stays unless asked.
 */
import { expect } from "chai";
import { compileStages } from "../handler/stages/index";
import { stageContext, stageEntry, stageRefusal } from "./support/stages";

const NOW_MS = Date.UTC(2026, 11, 1, 12, 0, 0);

const refusal = stageRefusal;

describe("stages: pack", () => {
  const packed = (options: unknown, init: Parameters<typeof stageEntry>[0]) => {
    const entry = stageEntry(init);
    const result = compileStages([{ pack: options }], "LOKI_STAGE_CONFIGS").run(entry, stageContext(NOW_MS));
    return { result, line: entry.line, labels: entry.labels, sec: entry.sec, nsec: entry.nsec };
  };

  const cases: Array<[what: string, options: unknown, init: Parameters<typeof stageEntry>[0], line: string, labels: Record<string, string>]> = [
    ["packs the named labels (sorted) and the line under _entry, and removes them from the stream",
      { labels: ["pod", "container"] }, { labels: { container: "web", pod: "web-1", env: "prod" }, line: "GET / 200" },
      '{"container":"web","pod":"web-1","_entry":"GET / 200"}', { env: "prod" }],
    ["packs extracted values that are no labels too", { labels: ["level"] }, { labels: { app: "a" }, extracted: { app: "a", level: "warn" }, line: "x" },
      '{"level":"warn","_entry":"x"}', { app: "a" }],
    ["leaves out names it does not find", { labels: ["missing", "app"] }, { labels: { app: "a" }, line: "x" }, '{"app":"a","_entry":"x"}', {}],
    ["leaves out a value without text and keeps its label", { labels: ["obj"] }, { labels: { obj: "o" }, extracted: { obj: { a: 1 } }, line: "x" }, '{"_entry":"x"}', { obj: "o" }],
    ["packs only the line when no label is named", {}, { labels: { app: "a" }, line: "x" }, '{"_entry":"x"}', { app: "a" }],
    ["escapes a JSON line, quotes and Go's HTML characters as Go's json.Marshal does",
      { labels: ["app"] }, { labels: { app: 'a"<b>&' }, line: '{"msg":"tab\there"} \u2028' },
      '{"app":"a\\"\\u003cb\\u003e\\u0026","_entry":"{\\"msg\\":\\"tab\\there\\"} \\u2028"}', {}],
    ["writes numbers as Go prints them", { labels: ["n"] }, { extracted: { n: 1e21 }, line: "" }, '{"n":"1000000000000000000000","_entry":""}', {}],
  ];
  for (const [what, options, init, line, labels] of cases) {
    it(what, () => {
      const out = packed(options, init);
      expect(out.result).to.equal(undefined);
      expect(out.line).to.equal(line);
      expect(out.labels).to.deep.equal(labels);
    });
  }

  it("keeps the entry's own timestamp by default (Promtail stamps the clock), so a retry is deduplicated", () => {
    const out = packed({ labels: ["app"] }, { labels: { app: "a" }, sec: 1_700_000_000, nsec: 123, line: "x" });
    expect([out.sec, out.nsec]).to.deep.equal([1_700_000_000, 123]);
  });

  it("stamps the clock when ingest_timestamp is true", () => {
    const out = packed({ labels: ["app"], ingest_timestamp: true }, { labels: { app: "a" }, sec: 1_700_000_000, nsec: 123, line: "x" });
    expect([out.sec, out.nsec]).to.deep.equal([NOW_MS / 1000, 0]);
  });

  it("refuses a label list that is not one, and unknown options", () => {
    expect(refusal([{ pack: { labels: 3 } }]).setting).to.equal("LOKI_STAGE_CONFIGS[0].pack.labels");
    expect(refusal([{ pack: { labels: [""] } }]).problem).to.match(/empty label/);
    expect(refusal([{ pack: { ingest_timestamp: "yes" } }]).setting).to.equal("LOKI_STAGE_CONFIGS[0].pack.ingest_timestamp");
    expect(refusal([{ pack: { label: ["a"] } }]).problem).to.match(/is not an option of this stage \(did you mean "labels"\?\)/);
  });
});
