import { expect } from "chai";
import { createHash } from "node:crypto";
import { Regex, RegexMatch } from "../handler/regex";
import {
  compileRelabelConfigs,
  expandTemplate,
  hashMod,
  parseTemplate,
  relabel,
  RelabelConfigError,
} from "../handler/labels/relabel";
import type { Labels } from "../handler/types";

/** Compiles JSON-shaped rules and applies them, as the shipper does with RELABEL_CONFIGS. */
function run(rules: unknown[], input: Labels): Labels | null {
  return relabel(input, compileRelabelConfigs(rules));
}

/** Shard number computed independently: md5, bytes 8..15 as a big-endian integer, modulo. */
function expectedShard(value: string, modulus: bigint): string {
  const hex = createHash("md5").update(Buffer.from(value, "utf8")).digest("hex");
  return (BigInt(`0x${hex.slice(16)}`) % modulus).toString();
}

interface RelabelCase {
  name: string;
  input: Labels;
  rules: unknown[];
  /** null: the label set is dropped. */
  output: Labels | null;
}

describe("relabel: Prometheus semantics", () => {
  const cases: RelabelCase[] = [
    {
      name: "replace expands ${1} in the replacement",
      input: { a: "foo", b: "bar", c: "baz" },
      rules: [{ source_labels: ["a"], regex: "f(.*)", target_label: "d", replacement: "ch${1}-ch${1}" }],
      output: { a: "foo", b: "bar", c: "baz", d: "choo-choo" },
    },
    {
      name: "replace joins several source labels with the separator and sees earlier rules' output",
      input: { a: "foo", b: "bar", c: "baz" },
      rules: [
        { source_labels: ["a", "b"], regex: "f(.*);(.*)r", target_label: "a", replacement: "b${1}${2}m" },
        { source_labels: ["c", "a"], regex: "(b).*b(.*)ba(.*)", target_label: "d", replacement: "$1$2$2$3" },
      ],
      output: { a: "boobam", b: "bar", c: "baz", d: "boooom" },
    },
    {
      name: "drop stops the rules that follow",
      input: { a: "foo" },
      rules: [
        { source_labels: ["a"], regex: ".*o.*", action: "drop" },
        { source_labels: ["a"], regex: "f(.*)", target_label: "d", replacement: "ch$1-ch$1" },
      ],
      output: null,
    },
    {
      name: "replace takes the capture of a regex matching the whole value",
      input: { a: "abc" },
      rules: [{ source_labels: ["a"], regex: ".*(b).*", target_label: "d" }],
      output: { a: "abc", d: "b" },
    },
    {
      name: "drop keeps the set when the regex does not match",
      input: { a: "foo" },
      rules: [{ source_labels: ["a"], regex: "no-match", action: "drop" }],
      output: { a: "foo" },
    },
    {
      name: "drop anchors alternations: f|o does not match foo",
      input: { a: "foo" },
      rules: [{ source_labels: ["a"], regex: "f|o", action: "drop" }],
      output: { a: "foo" },
    },
    {
      name: "keep drops the set when the regex does not match",
      input: { a: "foo" },
      rules: [{ source_labels: ["a"], regex: "no-match", action: "keep" }],
      output: null,
    },
    {
      name: "keep keeps the set when the regex matches",
      input: { a: "foo" },
      rules: [{ source_labels: ["a"], regex: "f.*", action: "keep" }],
      output: { a: "foo" },
    },
    {
      name: "keep anchors the regex: foo does not match foobar",
      input: { a: "foobar" },
      rules: [{ source_labels: ["a"], regex: "foo", action: "keep" }],
      output: null,
    },
    {
      name: "replace leaves the labels unchanged when the regex does not match",
      input: { a: "boo" },
      rules: [{ source_labels: ["a"], regex: "f", target_label: "b", replacement: "bar" }],
      output: { a: "boo" },
    },
    {
      name: "labelmap copies matching labels under the expanded name and keeps the originals",
      input: { a: "foo", b1: "bar", b2: "baz" },
      rules: [{ regex: "(b.*)", replacement: "bar_${1}", action: "labelmap" }],
      output: { a: "foo", b1: "bar", b2: "baz", bar_b1: "bar", bar_b2: "baz" },
    },
    {
      name: "labelmap strips a prefix",
      input: { a: "foo", __meta_my_bar: "aaa", __meta_my_baz: "bbb", __meta_other: "ccc" },
      rules: [{ regex: "__meta_(my.*)", replacement: "${1}", action: "labelmap" }],
      output: { a: "foo", __meta_my_bar: "aaa", __meta_my_baz: "bbb", __meta_other: "ccc", my_bar: "aaa", my_baz: "bbb" },
    },
    {
      name: "replace expands ${1} in the target label",
      input: { a: "some-name-value" },
      rules: [{ source_labels: ["a"], regex: "some-([^-]+)-([^,]+)", replacement: "${2}", target_label: "${1}" }],
      output: { a: "some-name-value", name: "value" },
    },
    {
      name: "replace with a replacement that expands to empty deletes the (absent) target",
      input: { a: "some-name-value" },
      rules: [{ source_labels: ["a"], regex: "some-([^-]+)-([^,]+)", replacement: "${3}", target_label: "${1}" }],
      output: { a: "some-name-value" },
    },
    {
      name: "replace skips a target that expands to an invalid (here empty) label name",
      input: { a: "some-name-0" },
      rules: [
        { source_labels: ["a"], regex: "some-([^-]+)-([^,]+)", replacement: "${1}", target_label: "${3}" },
        { source_labels: ["a"], regex: "some-([^-]+)(-[^,]+)", replacement: "${1}", target_label: "${3}" },
      ],
      output: { a: "some-name-0" },
    },
    {
      name: "replace skips a target that expands to a name starting with a digit",
      input: { a: "1abc" },
      rules: [{ source_labels: ["a"], regex: "(.*)", target_label: "$1", replacement: "x" }],
      output: { a: "1abc" },
    },
    {
      name: "replace skips a target that expands to a name with a dash",
      input: { a: "a-b" },
      rules: [{ source_labels: ["a"], regex: "(.*)", target_label: "${1}_x", replacement: "x" }],
      output: { a: "a-b" },
    },
    {
      name: "several replace rules extract fields from one label",
      input: { __meta_sd_tags: "path:/secret,job:some-job,label:foo=bar" },
      rules: [
        { source_labels: ["__meta_sd_tags"], regex: "(?:.+,|^)path:(/[^,]+).*", replacement: "${1}", target_label: "__metrics_path__" },
        { source_labels: ["__meta_sd_tags"], regex: "(?:.+,|^)job:([^,]+).*", replacement: "${1}", target_label: "job" },
        { source_labels: ["__meta_sd_tags"], regex: "(?:.+,|^)label:([^=]+)=([^,]+).*", replacement: "${2}", target_label: "${1}" },
      ],
      output: { __meta_sd_tags: "path:/secret,job:some-job,label:foo=bar", __metrics_path__: "/secret", job: "some-job", foo: "bar" },
    },
    {
      name: "labeldrop, then replace re-creating the label, then keep on it",
      input: { __meta_kubernetes_pod_container_port_name: "foo", __meta_kubernetes_pod_annotation_XXX_metrics_port: "9091" },
      rules: [
        { regex: "^__meta_kubernetes_pod_container_port_name$", action: "labeldrop" },
        { source_labels: ["__meta_kubernetes_pod_annotation_XXX_metrics_port"], regex: "(.+)", replacement: "metrics", target_label: "__meta_kubernetes_pod_container_port_name" },
        { source_labels: ["__meta_kubernetes_pod_container_port_name"], regex: "^metrics$", action: "keep" },
      ],
      output: { __meta_kubernetes_pod_annotation_XXX_metrics_port: "9091", __meta_kubernetes_pod_container_port_name: "metrics" },
    },
    {
      name: "labelkeep removes the labels whose names do not match",
      input: { a: "foo", b1: "bar", b2: "baz" },
      rules: [{ regex: "(b.*)", action: "labelkeep" }],
      output: { b1: "bar", b2: "baz" },
    },
    {
      name: "labeldrop removes the labels whose names match",
      input: { a: "foo", b1: "bar", b2: "baz" },
      rules: [{ regex: "(b.*)", action: "labeldrop" }],
      output: { a: "foo" },
    },
    {
      name: "labeldrop anchors the regex: b does not match b1",
      input: { b: "x", b1: "y" },
      rules: [{ regex: "b", action: "labeldrop" }],
      output: { b1: "y" },
    },
    {
      name: "uppercase and lowercase write the transformed value to the target",
      input: { foo: "bAr123Foo" },
      rules: [
        { source_labels: ["foo"], action: "uppercase", target_label: "foo_uppercase" },
        { source_labels: ["foo"], action: "lowercase", target_label: "foo_lowercase" },
      ],
      output: { foo: "bAr123Foo", foo_lowercase: "bar123foo", foo_uppercase: "BAR123FOO" },
    },
    {
      name: "keepequal keeps the set when the target equals the source value",
      input: { __tmp_port: "1234", __port1: "1234", __port2: "5678" },
      rules: [{ source_labels: ["__tmp_port"], action: "keepequal", target_label: "__port1" }],
      output: { __tmp_port: "1234", __port1: "1234", __port2: "5678" },
    },
    {
      name: "dropequal drops the set when the target equals the source value",
      input: { __tmp_port: "1234", __port1: "1234", __port2: "5678" },
      rules: [{ source_labels: ["__tmp_port"], action: "dropequal", target_label: "__port1" }],
      output: null,
    },
    {
      name: "dropequal keeps the set when the target differs",
      input: { __tmp_port: "1234", __port1: "1234", __port2: "5678" },
      rules: [{ source_labels: ["__tmp_port"], action: "dropequal", target_label: "__port2" }],
      output: { __tmp_port: "1234", __port1: "1234", __port2: "5678" },
    },
    {
      name: "keepequal drops the set when the target differs",
      input: { __tmp_port: "1234", __port1: "1234", __port2: "5678" },
      rules: [{ source_labels: ["__tmp_port"], action: "keepequal", target_label: "__port2" }],
      output: null,
    },
    {
      name: "keepequal treats a missing target as an empty value",
      input: { a: "" },
      rules: [{ source_labels: ["missing"], action: "keepequal", target_label: "also_missing" }],
      output: { a: "" },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      expect(run(c.rules, c.input)).to.deep.equal(c.output);
    });
  }
});

describe("relabel: defaults and edge cases", () => {
  const cases: RelabelCase[] = [
    {
      name: "defaults to replace with regex (.*) and replacement $1: copies the source to the target",
      input: { __aws_cloudwatch_log_group: "/aws/lambda/x" },
      rules: [{ source_labels: ["__aws_cloudwatch_log_group"], target_label: "log_group" }],
      output: { __aws_cloudwatch_log_group: "/aws/lambda/x", log_group: "/aws/lambda/x" },
    },
    {
      name: "a missing source label reads as the empty string",
      input: { a: "x" },
      rules: [{ source_labels: ["missing"], regex: "", action: "keep" }],
      output: { a: "x" },
    },
    {
      name: "keep with a regex needing a value drops a set missing the label",
      input: { a: "x" },
      rules: [{ source_labels: ["missing"], regex: ".+", action: "keep" }],
      output: null,
    },
    {
      name: "the default separator is ;",
      input: { a: "1", b: "2" },
      rules: [{ source_labels: ["a", "b"], target_label: "c" }],
      output: { a: "1", b: "2", c: "1;2" },
    },
    {
      name: "a custom separator, and missing labels joined as empty",
      input: { a: "1", c: "3" },
      rules: [{ source_labels: ["a", "b", "c"], separator: "/", target_label: "d" }],
      output: { a: "1", c: "3", d: "1//3" },
    },
    {
      name: "an explicitly empty separator joins values directly",
      input: { a: "1", b: "2" },
      rules: [{ source_labels: ["a", "b"], separator: "", target_label: "c" }],
      output: { a: "1", b: "2", c: "12" },
    },
    {
      name: "replace producing an empty value deletes the target label",
      input: { a: "", b: "old" },
      rules: [{ source_labels: ["a"], target_label: "b" }],
      output: { a: "", b: undefined as unknown as string },
    },
    {
      name: "an explicitly empty replacement deletes the target label",
      input: { a: "x", b: "old" },
      rules: [{ source_labels: ["a"], target_label: "b", replacement: "" }],
      output: { a: "x" },
    },
    {
      name: "$1x names the group \"1x\" (Go's longest-name rule), which expands to empty and deletes the target",
      input: { a: "foo", b: "old" },
      rules: [{ source_labels: ["a"], regex: "(f)oo", target_label: "b", replacement: "$1x" }],
      output: { a: "foo" },
    },
    {
      name: "${1}x is group 1 followed by x",
      input: { a: "foo" },
      rules: [{ source_labels: ["a"], regex: "(f)oo", target_label: "b", replacement: "${1}x" }],
      output: { a: "foo", b: "fx" },
    },
    {
      name: "$$ is a literal dollar sign",
      input: { a: "foo" },
      rules: [{ source_labels: ["a"], regex: "(f)oo", target_label: "b", replacement: "$$1 costs $$$1" }],
      output: { a: "foo", b: "$1 costs $f" },
    },
    {
      name: "named groups expand by $name and ${name}",
      input: { a: "web-prod" },
      rules: [{ source_labels: ["a"], regex: "(?P<app>[a-z]+)-(?<env>[a-z]+)", target_label: "b", replacement: "${env}.$app" }],
      output: { a: "web-prod", b: "prod.web" },
    },
    {
      name: "named groups can build the target label name",
      input: { a: "team=payments" },
      rules: [{ source_labels: ["a"], regex: "(?P<key>\\w+)=(?P<value>.+)", target_label: "tag_${key}", replacement: "$value" }],
      output: { a: "team=payments", tag_team: "payments" },
    },
    {
      name: "$0 is the whole match and an out-of-range group is empty",
      input: { a: "abc" },
      rules: [{ source_labels: ["a"], regex: "a(b)c", target_label: "b", replacement: "[$0|${1}|${2}|${9}]" }],
      output: { a: "abc", b: "[abc|b||]" },
    },
    {
      name: "a group that did not participate expands to empty",
      input: { a: "b" },
      rules: [{ source_labels: ["a"], regex: "(a)?(b)", target_label: "c", replacement: "<$1|$2>" }],
      output: { a: "b", c: "<|b>" },
    },
    {
      name: "action names are case-insensitive",
      input: { a: "x", b: "y" },
      rules: [
        { source_labels: ["a"], target_label: "c", action: "Replace" },
        { regex: "(b)", replacement: "copy_$1", action: "LabelMap" },
        { source_labels: ["a"], regex: "x", action: "KEEP" },
      ],
      output: { a: "x", b: "y", c: "x", copy_b: "y" },
    },
    {
      name: "(?i) makes a keep regex case-insensitive",
      input: { level: "ERROR" },
      rules: [{ source_labels: ["level"], regex: "(?i)error|warn", action: "keep" }],
      output: { level: "ERROR" },
    },
    {
      name: "labelmap reads the labels as they were before the rule (a snapshot)",
      input: { a: "1", x_a: "2" },
      rules: [{ regex: "(.*)", replacement: "x_$1", action: "labelmap" }],
      output: { a: "1", x_a: "1", x_x_a: "2" },
    },
    {
      name: "labelmap skips a replacement that is not a valid label name",
      input: { a: "1" },
      rules: [{ regex: "(.*)", replacement: "${1}", action: "labelmap" }, { regex: "a", replacement: "$2", action: "labelmap" }],
      output: { a: "1" },
    },
    {
      name: "JSON null fields take their defaults",
      input: { a: "x" },
      rules: [{ source_labels: ["a"], target_label: "b", regex: null, replacement: null, separator: null, action: null, modulus: null }],
      output: { a: "x", b: "x" },
    },
    {
      name: "label names that are Object.prototype properties are ordinary labels",
      input: { ["__proto__"]: "p", a: "x" },
      rules: [
        { source_labels: ["constructor"], regex: "", action: "keep" },
        { source_labels: ["__proto__"], target_label: "toString" },
        { source_labels: ["a"], target_label: "__proto__", replacement: "new" },
      ],
      output: { ["__proto__"]: "new", a: "x", toString: "p" },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const out = run(c.rules, c.input);
      const expected = c.output === null ? null : Object.fromEntries(Object.entries(c.output).filter(([, v]) => v !== undefined));
      expect(out === null ? null : { ...out }).to.deep.equal(expected);
    });
  }

  it("lowercase and uppercase follow Go's per-character simple case mapping", () => {
    const rules = [
      { source_labels: ["v"], action: "lowercase", target_label: "lower" },
      { source_labels: ["v"], action: "uppercase", target_label: "upper" },
    ];
    const table: Array<[string, string, string]> = [
      ["Straße", "straße", "STRAßE"], // Go keeps ß: its only uppercase is the two letters SS
      ["İstanbul", "istanbul", "İSTANBUL"], // Go maps İ to plain i, JavaScript to i + combining dot
      ["ΟΔΟΣ", "οδοσ", "ΟΔΟΣ"], // no final-sigma rule in Go
      ["ᾳ", "ᾳ", "ᾼ"], // Greek iota subscript: simple uppercase is the titlecase letter
      ["ǅ", "ǆ", "Ǆ"],
      ["Ünïcödé 😀", "ünïcödé 😀", "ÜNÏCÖDÉ 😀"],
    ];
    for (const [v, lower, upper] of table) {
      expect(run(rules, { v }), v).to.deep.equal({ v, lower, upper });
    }
  });

  it("lowercase of an empty source deletes the target", () => {
    expect(run([{ source_labels: ["missing"], action: "lowercase", target_label: "t" }], { t: "old", a: "x" })).to.deep.equal({ a: "x" });
  });
});

describe("relabel: hashmod", () => {
  it("matches Prometheus's own shard numbers", () => {
    // From Prometheus's relabel tests: md5("baz") = 73feffa4b7f6bb68 e44cf984c85f6e88; the last
    // 8 bytes read big-endian are 0xe44cf984c85f6e88 = 16450797887570275976, and mod 1000 = 976.
    expect(createHash("md5").update("baz").digest("hex")).to.equal("73feffa4b7f6bb68e44cf984c85f6e88");
    expect(0xe44cf984c85f6e88n).to.equal(16450797887570275976n);
    expect(run([{ source_labels: ["c"], target_label: "d", action: "hashmod", modulus: 1000 }], { a: "foo", b: "bar", c: "baz" }))
      .to.deep.equal({ a: "foo", b: "bar", c: "baz", d: "976" });
    expect(run([{ source_labels: ["a"], target_label: "b", action: "hashmod", modulus: 1000 }], { a: "foo\nbar" }))
      .to.deep.equal({ a: "foo\nbar", b: "734" });
  });

  it("agrees with an independent md5/BigInt computation for many values and moduli", () => {
    const values = ["", "a", "baz", "日本語", "😀", "x".repeat(1000), "a;b", "line\nbreak"];
    const moduli = [1n, 2n, 3n, 7n, 10n, 1000n, 65536n, 4294967297n, (1n << 63n) + 12345n, (1n << 64n) - 1n];
    for (const value of values) {
      for (const modulus of moduli) {
        expect(hashMod(value, modulus), `${JSON.stringify(value)} mod ${modulus}`).to.equal(expectedShard(value, modulus));
      }
    }
  });

  it("hashes the joined source values and accepts a modulus beyond 2^53 as a string", () => {
    const rules = [{ source_labels: ["a", "b"], separator: "|", target_label: "shard", action: "hashmod", modulus: "18446744073709551615" }];
    expect(run(rules, { a: "x", b: "y" })).to.deep.equal({ a: "x", b: "y", shard: expectedShard("x|y", (1n << 64n) - 1n) });
  });

  it("with modulus 1 always yields shard 0", () => {
    expect(run([{ source_labels: ["a"], target_label: "s", action: "hashmod", modulus: 1 }], { a: "anything" })).to.deep.equal({ a: "anything", s: "0" });
  });
});

describe("relabel: purity and order independence", () => {
  const allActions = [
    { source_labels: ["a"], target_label: "r" },
    { source_labels: ["a"], target_label: "h", action: "hashmod", modulus: 8 },
    { source_labels: ["a"], target_label: "l", action: "lowercase" },
    { source_labels: ["a"], target_label: "u", action: "uppercase" },
    { regex: "(a|b)", replacement: "m_$1", action: "labelmap" },
    { regex: "c", action: "labeldrop" },
    { regex: "[a-z_]+", action: "labelkeep" },
    { source_labels: ["a"], regex: "Xy", action: "keep" },
    { source_labels: ["a"], regex: "nope", action: "drop" },
    { source_labels: ["a"], target_label: "r", action: "keepequal" },
    { source_labels: ["b"], target_label: "r", action: "dropequal" },
  ];

  it("never mutates its input", () => {
    const input = Object.freeze({ a: "Xy", b: "2", c: "3" });
    const out = run(allActions, input);
    expect(input).to.deep.equal({ a: "Xy", b: "2", c: "3" });
    expect(out).to.deep.equal({ a: "Xy", b: "2", r: "Xy", h: expectedShard("Xy", 8n), l: "xy", u: "XY", m_a: "Xy", m_b: "2" });
  });

  it("gives the same result whatever the order of the input's keys", () => {
    const forward = run(allActions, { a: "Xy", b: "2", c: "3", m_a: "old" });
    const backward = run(allActions, { m_a: "old", c: "3", b: "2", a: "Xy" });
    expect(forward).to.deep.equal(backward);
    // Two labels mapped to the same name: the last in name order wins, whatever the input order.
    const rules = [{ regex: "[ab]_(x)", replacement: "$1", action: "labelmap" }];
    expect(run(rules, { a_x: "1", b_x: "2" })).to.deep.equal(run(rules, { b_x: "2", a_x: "1" }));
    expect(run(rules, { b_x: "2", a_x: "1" })).to.include({ x: "2" });
  });

  it("returns the input unchanged (same content) when no rule applies", () => {
    const input = { a: "1" };
    expect(run([{ source_labels: ["a"], regex: "2", target_label: "b" }], input)).to.deep.equal({ a: "1" });
    expect(relabel(input, [])).to.deep.equal({ a: "1" });
  });
});

describe("relabel: $ templates (Go's Regexp.Expand)", () => {
  const match = Regex.compile("(?P<word>[a-z]+)(\\d+)?").find("abc") as RegexMatch;
  const cases: Array<[string, string]> = [
    ["$1", "abc"],
    ["${1}", "abc"],
    ["$1x", ""], // group "1x"
    ["${1}x", "abcx"],
    ["$word", "abc"],
    ["${word}!", "abc!"],
    ["$word_x", ""], // group "word_x"
    ["$2", ""], // did not participate
    ["$01", ""], // a leading zero makes it a name, and there is no group "01"
    ["$$", "$"],
    ["$", "$"],
    ["a$-b", "a$-b"], // not a reference: the $ stays
    ["${1", "${1"], // no closing brace: the $ stays
    ["${}", "${}"],
    ["$é", ""], // Unicode letters are name characters
    ["100$", "100$"],
  ];
  for (const [template, expected] of cases) {
    it(`expands ${JSON.stringify(template)} to ${JSON.stringify(expected)}`, () => {
      expect(expandTemplate(parseTemplate(template), match)).to.equal(expected);
    });
  }
});

describe("relabel configuration validation", () => {
  function errorOf(raw: unknown): Error {
    try {
      compileRelabelConfigs(raw);
    } catch (err) {
      expect(err).to.be.instanceOf(RelabelConfigError);
      return err as Error;
    }
    throw new Error("expected a RelabelConfigError");
  }

  const invalid: Array<[string, unknown, RegExp]> = [
    ["a value that is not an array", { action: "drop" }, /relabel configs must be a JSON array of rules, got an object/],
    ["null", null, /must be a JSON array/],
    ["a rule that is not an object", [{ target_label: "a" }, 1], /^rule 1: must be an object/],
    ["an unknown action", [{ action: "explode" }], /^rule 0: unknown action "explode"; expected one of replace, keep/],
    ["an empty action", [{ action: "" }], /^rule 0: unknown action/],
    ["a camelCase field", [{ source_labels: ["a"], targetLabel: "b" }], /^rule 0 \(action "replace"\): unknown field "targetLabel" \(did you mean "target_label"\?\)/],
    ["a misspelt field", [{ source_label: ["a"], target_label: "b" }], /unknown field "source_label" \(did you mean "source_labels"\?\)/],
    ["an unrelated field", [{ foo: 1 }], /unknown field "foo"; known fields are source_labels, separator/],
    ["replace without target_label", [{ source_labels: ["a"] }], /^rule 0 \(action "replace"\): target_label is required$/],
    ["hashmod without modulus", [{ target_label: "a" }, { target_label: "b" }, { source_labels: ["a"], target_label: "s", action: "hashmod" }], /^rule 2 \(action "hashmod"\): modulus must be a positive integer$/],
    ["hashmod with modulus 0", [{ source_labels: ["a"], target_label: "s", action: "hashmod", modulus: 0 }], /modulus must be a positive integer/],
    ["a negative modulus", [{ source_labels: ["a"], target_label: "s", action: "hashmod", modulus: -1 }], /modulus must be a positive integer, got number -1/],
    ["a fractional modulus", [{ source_labels: ["a"], target_label: "s", action: "hashmod", modulus: 1.5 }], /modulus must be a positive integer/],
    ["a modulus above 2^64-1", [{ source_labels: ["a"], target_label: "s", action: "hashmod", modulus: "18446744073709551616" }], /modulus must be a positive integer/],
    ["hashmod without target_label", [{ source_labels: ["a"], action: "hashmod", modulus: 2 }], /target_label is required/],
    ["hashmod with an invalid target", [{ source_labels: ["a"], action: "hashmod", modulus: 2, target_label: "a-b" }], /target_label "a-b" is not a valid label name/],
    ["hashmod with a templated target", [{ source_labels: ["a"], action: "hashmod", modulus: 2, target_label: "${1}" }], /target_label "\$\{1\}" is not a valid label name/],
    ["replace with a target starting with a digit", [{ source_labels: ["a"], target_label: "0${3}" }], /target_label "0\$\{3\}" is not a valid label name or \$1\/\$\{name\} template/],
    ["replace with a target starting with a dash", [{ source_labels: ["a"], target_label: "-${3}" }], /target_label "-\$\{3\}" is not a valid/],
    ["replace with a bare $ target", [{ source_labels: ["a"], target_label: "$" }], /is not a valid/],
    ["replace with an unclosed ${ target", [{ source_labels: ["a"], target_label: "foo${" }], /is not a valid/],
    ["replace with a plain invalid target", [{ source_labels: ["a"], target_label: "a.b" }], /target_label "a.b" is not a valid/],
    ["lowercase with a templated target", [{ source_labels: ["a"], action: "lowercase", target_label: "${3}" }], /^rule 0 \(action "lowercase"\): target_label "\$\{3\}" is not a valid label name$/],
    ["uppercase with a replacement", [{ source_labels: ["a"], action: "uppercase", target_label: "b", replacement: "x" }], /replacement must not be set for uppercase/],
    ["labelmap with an invalid replacement", [{ regex: "(.*)", replacement: "-$1", action: "labelmap" }], /^rule 0 \(action "labelmap"\): replacement "-\$1" is not a valid label name/],
    ["keepequal with a regex", [{ source_labels: ["a"], target_label: "b", action: "keepequal", regex: "x" }], /only source_labels and target_label may be set for keepequal, but regex is set/],
    ["dropequal with a separator and a replacement", [{ source_labels: ["a"], target_label: "b", action: "dropequal", separator: ",", replacement: "y" }], /only source_labels and target_label may be set for dropequal, but separator, replacement are set/],
    ["dropequal without a target", [{ source_labels: ["a"], action: "dropequal" }], /target_label is required/],
    ["labeldrop with source_labels", [{ source_labels: ["a"], regex: "a", action: "labeldrop" }], /^rule 0 \(action "labeldrop"\): only regex may be set for labeldrop, but source_labels is set$/],
    ["labelkeep with a target_label", [{ regex: "a", target_label: "x", action: "labelkeep" }], /only regex may be set for labelkeep, but target_label is set/],
    ["labelkeep with a modulus", [{ regex: "a", modulus: 3, action: "labelkeep" }], /but modulus is set/],
    ["source_labels that is a string", [{ source_labels: "a", target_label: "b" }], /source_labels must be an array of label names, got string "a"/],
    ["an invalid source label name", [{ source_labels: ["a", "b-c"], target_label: "b" }], /source_labels\[1\] string "b-c" is not a valid label name/],
    ["a regex that is not a string", [{ source_labels: ["a"], target_label: "b", regex: 5 }], /regex must be a string, got number 5/],
    ["a separator that is not a string", [{ source_labels: ["a"], target_label: "b", separator: [] }], /separator must be a string, got an array/],
    ["a regex with a lookahead", [{ source_labels: ["a"], regex: "(?=x)x", action: "keep" }], /^rule 0 \(action "keep"\): regex "\(\?=x\)x": invalid or unsupported Perl syntax: `\(\?=` \(lookahead assertions .* are not supported by RE2\)$/],
    ["an unclosed group", [{ source_labels: ["a"], regex: "(unclosed", target_label: "b" }], /^rule 0 \(action "replace"\): regex "\(unclosed": missing closing \): `\(unclosed`$/],
  ];
  for (const [what, raw, message] of invalid) {
    it(`rejects ${what}`, () => {
      expect(errorOf(raw).message).to.match(message);
    });
  }

  const valid: Array<[string, unknown[]]> = [
    ["an empty array", []],
    ["templated replace targets Prometheus accepts", ["label${1}", "${1}label", "${1}", "$1", "asd$2asd", "_${1}_", "foo${bar}foo"].map((t) => ({ source_labels: ["a"], target_label: t }))],
    ["keepequal with default-valued optional fields", [{ source_labels: ["a"], target_label: "b", action: "keepequal", separator: ";", replacement: "$1", regex: "(.*)" }]],
    ["labeldrop with an empty source_labels", [{ source_labels: [], regex: "a", action: "labeldrop" }]],
    ["keep without source labels", [{ regex: "", action: "keep" }]],
  ];
  for (const [what, raw] of valid) {
    it(`accepts ${what}`, () => {
      expect(compileRelabelConfigs(raw)).to.have.length(raw.length);
    });
  }

  it("applies Prometheus's defaults to the compiled rule", () => {
    const [rule] = compileRelabelConfigs([{ target_label: "x" }]);
    expect(rule).to.include({ action: "replace", separator: ";", regexSource: "(.*)", replacement: "$1", targetLabel: "x", modulus: 0n });
    expect(rule.sourceLabels).to.deep.equal([]);
    expect(rule.regex.source).to.equal("(.*)");
    expect(rule.regex.matchesFully("a\rb")).to.equal(true); // Go's . excludes only \n
    expect(rule.regex.matchesFully("a\nb")).to.equal(false);
  });
});
