import { expect } from "chai";
import {
  canonicalLabelsKey,
  createLabelPipeline,
  GenerationalCache,
  LabelPipelineOptions,
  parseDropLabels,
  parseExtraLabels,
} from "../handler/labels/pipeline";
import { compileRelabelConfigs } from "../handler/labels/relabel";

function pipeline(overrides: Partial<LabelPipelineOptions> = {}): ReturnType<typeof createLabelPipeline> {
  return createLabelPipeline({ extraLabels: {}, dropLabels: [], relabelRules: [], ...overrides });
}

describe("label pipeline: order of operations", () => {
  it("passes base labels through and gives the stream selector as key", () => {
    const final = pipeline()({ b: "2", a: "1" });
    expect(final).to.deep.equal({ labels: { a: "1", b: "2" }, key: '{a="1", b="2"}', tenant: undefined });
  });

  it("merges extra labels over base labels, extra winning", () => {
    const final = pipeline({ extraLabels: { __extra_env: "prod", app: "from-extra" } })({ app: "from-source", x: "1" });
    expect(final?.labels).to.deep.equal({ __extra_env: "prod", app: "from-extra", x: "1" });
  });

  it("removes drop labels, including extra ones, before relabeling", () => {
    const rules = compileRelabelConfigs([{ source_labels: ["__aws_log_type"], target_label: "copied" }]);
    const final = pipeline({ extraLabels: { e: "1" }, dropLabels: ["__aws_log_type", "e"], relabelRules: rules })({ __aws_log_type: "x", app: "a" });
    expect(final?.labels).to.deep.equal({ app: "a" });
  });

  it("relabels after merging, so rules can use extra labels", () => {
    const rules = compileRelabelConfigs([{ source_labels: ["__extra_env", "app"], separator: "-", target_label: "stack" }]);
    const final = pipeline({ extraLabels: { __extra_env: "prod" }, relabelRules: rules })({ app: "web" });
    expect(final?.labels).to.include({ stack: "prod-web" });
  });

  it("returns null when a relabel rule drops the set", () => {
    const rules = compileRelabelConfigs([{ source_labels: ["app"], regex: "noisy", action: "drop" }]);
    expect(pipeline({ relabelRules: rules })({ app: "noisy" })).to.equal(null);
    expect(pipeline({ relabelRules: rules })({ app: "quiet" })).to.not.equal(null);
  });

  it("returns null when no label is left", () => {
    const rules = compileRelabelConfigs([{ regex: ".*", action: "labeldrop" }]);
    expect(pipeline({ relabelRules: rules })({ app: "x" })).to.equal(null);
    expect(pipeline({ dropLabels: ["app"] })({ app: "x" })).to.equal(null);
    expect(pipeline()({})).to.equal(null);
  });

  it("leaves out labels with empty values (Loki treats them as absent)", () => {
    expect(pipeline({ extraLabels: { e: "" } })({ a: "", b: "1" })?.labels).to.deep.equal({ b: "1" });
    expect(pipeline()({ a: "" })).to.equal(null);
  });

  it("keeps __tenant_id__ in the labels but out of the key", () => {
    const final = pipeline()({ __tenant_id__: "t1", app: "x" });
    expect(final?.labels).to.deep.equal({ __tenant_id__: "t1", app: "x" });
    expect(final?.key).to.equal('{app="x"}');
  });

  it("never mutates the base labels or the options it was given", () => {
    const base = Object.freeze({ a: "1", drop_me: "2" });
    const extraLabels = { e: "x" };
    const labelsFor = pipeline({ extraLabels, dropLabels: ["drop_me"] });
    extraLabels.e = "changed later";
    expect(labelsFor(base)?.labels).to.deep.equal({ a: "1", e: "x" });
    expect(base).to.deep.equal({ a: "1", drop_me: "2" });
  });

  it("returns frozen results, so a caller cannot corrupt the shared cache", () => {
    const final = pipeline()({ a: "1" });
    expect(Object.isFrozen(final)).to.equal(true);
    expect(Object.isFrozen(final?.labels)).to.equal(true);
  });
});

describe("label pipeline: memoization", () => {
  it("returns the same object for the same base labels, whatever their key order", () => {
    const labelsFor = pipeline({ extraLabels: { e: "1" } });
    const first = labelsFor({ a: "1", b: "2" });
    expect(labelsFor({ b: "2", a: "1" })).to.equal(first);
  });

  it("computes each distinct label set once", () => {
    let calls = 0;
    const rules = compileRelabelConfigs([{ source_labels: ["a"], target_label: "b" }]);
    // Count relabel work through a regex whose exec is observed.
    const regex = rules[0].regex;
    const fullMatch = regex.fullMatch.bind(regex);
    regex.fullMatch = (s: string) => {
      calls++;
      return fullMatch(s);
    };
    const labelsFor = pipeline({ relabelRules: rules });
    for (let i = 0; i < 100; i++) labelsFor({ a: "x" });
    labelsFor({ a: "y" });
    expect(calls).to.equal(2);
  });

  it("remembers dropped label sets too", () => {
    let calls = 0;
    const rules = compileRelabelConfigs([{ source_labels: ["a"], regex: "x", action: "drop" }]);
    const regex = rules[0].regex;
    const matchesFully = regex.matchesFully.bind(regex);
    regex.matchesFully = (s: string) => {
      calls++;
      return matchesFully(s);
    };
    const labelsFor = pipeline({ relabelRules: rules });
    expect(labelsFor({ a: "x" })).to.equal(null);
    expect(labelsFor({ a: "x" })).to.equal(null);
    expect(calls).to.equal(1);
  });

  it("keeps recently used sets and evicts the oldest ones", () => {
    const labelsFor = pipeline({ cacheSize: 4 });
    const a = labelsFor({ n: "a" });
    const b = labelsFor({ n: "b" });
    expect(labelsFor({ n: "a" })).to.equal(a); // a is used again: it stays
    labelsFor({ n: "c" }); // fills the young generation: b, unused since, is evicted
    labelsFor({ n: "d" });
    expect(labelsFor({ n: "a" })).to.equal(a);
    const bAgain = labelsFor({ n: "b" });
    expect(bAgain).to.not.equal(b);
    expect(bAgain).to.deep.equal(b);
  });

  it("never holds more entries than its capacity", () => {
    for (const capacity of [1, 2, 3, 10, 101]) {
      const cache = new GenerationalCache<number>(capacity);
      for (let i = 0; i < 1000; i++) {
        cache.set(`k${i}`, i);
        cache.get(`k${i % 7}`);
        expect(cache.size, `capacity ${capacity}`).to.be.at.most(capacity);
      }
      expect(cache.get("k999")).to.equal(999); // the newest entry is always there
    }
  });

  it("can be turned off with cacheSize 0", () => {
    const labelsFor = pipeline({ cacheSize: 0 });
    const first = labelsFor({ a: "1" });
    const second = labelsFor({ a: "1" });
    expect(second).to.not.equal(first);
    expect(second).to.deep.equal(first);
  });

  it("rejects a negative or fractional cache size", () => {
    expect(() => pipeline({ cacheSize: -1 })).to.throw(/cache size/);
    expect(() => pipeline({ cacheSize: 1.5 })).to.throw(/cache size/);
  });

  it("never confuses two label sets whose naive encodings would collide", () => {
    const labelsFor = pipeline();
    const pairs: Array<[Record<string, string>, Record<string, string>]> = [
      [{ a: "x,b=y" }, { a: "x", b: "y" }],
      [{ a: 'x", b="y' }, { a: "x", b: "y" }],
      [{ ab: "c" }, { a: "bc" }],
      [{ a: "1\u0000b\u00002" }, { a: "1", b: "2" }],
    ];
    for (const [one, other] of pairs) {
      expect(canonicalLabelsKey(one)).to.not.equal(canonicalLabelsKey(other));
      expect(labelsFor(one)?.labels).to.deep.equal(one);
    }
  });
});

describe("parseExtraLabels", () => {
  const valid: Array<[string, string, boolean, Record<string, string>]> = [
    ["the empty string", "", false, {}],
    ["one pair, prefixed", "env,prod", false, { __extra_env: "prod" }],
    ["one pair without the prefix", "env,prod", true, { env: "prod" }],
    ["several pairs", "env,prod,team,payments", true, { env: "prod", team: "payments" }],
    ["names with surrounding spaces (trimmed) and values kept verbatim", " env , prod ", true, { env: " prod " }],
    ["a name that is valid only with the prefix", "1st,x", false, { __extra_1st: "x" }],
  ];
  for (const [what, raw, omitPrefix, expected] of valid) {
    it(`parses ${what}`, () => {
      expect(parseExtraLabels(raw, omitPrefix)).to.deep.equal(expected);
    });
  }

  const invalid: Array<[string, string, boolean, RegExp]> = [
    ["an odd number of items", "env,prod,team", false, /even number of comma-separated items .* got 3/],
    ["an invalid name", "my-env,prod", true, /"my-env" is not a valid label name/],
    ["a name starting with a digit without the prefix", "1st,x", true, /"1st" is not a valid label name/],
    ["an empty name", ",prod", true, /"" is not a valid label name/],
    ["an empty value", "env,", true, /the value of "env" is empty/],
    ["a name given twice", "env,a,env,b", true, /label "env" is given twice/],
  ];
  for (const [what, raw, omitPrefix, message] of invalid) {
    it(`rejects ${what}`, () => {
      expect(() => parseExtraLabels(raw, omitPrefix)).to.throw(Error, message);
    });
  }
});

describe("parseDropLabels", () => {
  const valid: Array<[string, string, string[]]> = [
    ["the empty string", "", []],
    ["one name", "__aws_log_type", ["__aws_log_type"]],
    ["names with surrounding spaces", " a , b,c ", ["a", "b", "c"]],
    ["empty items and a trailing comma", "a,,b,", ["a", "b"]],
    ["a repeated name once", "a,a", ["a"]],
  ];
  for (const [what, raw, expected] of valid) {
    it(`parses ${what}`, () => {
      expect(parseDropLabels(raw)).to.deep.equal(expected);
    });
  }

  it("rejects an invalid name, naming it", () => {
    expect(() => parseDropLabels("ok,not-ok")).to.throw(Error, /"not-ok" is not a valid label name/);
    expect(() => parseDropLabels("a b")).to.throw(Error, /"a b" is not a valid label name/);
  });
});
