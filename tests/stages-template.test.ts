import { expect } from "chai";
import { ConfigError } from "../handler/config";
import { template } from "../handler/stages/template";
import { noNested, stageContext, stageEntry } from "./support/stages";

/** Runs a template stage on one entry; returns the extracted map afterwards. */
function run(tpl: string, extracted: Record<string, unknown>, source = "v", line = "not important for this test"): Record<string, unknown> {
  const stage = template({ source, template: tpl }, "LOKI_STAGE_CONFIGS[1].template", noNested);
  const entry = stageEntry({ extracted: { ...extracted }, line });
  expect(stage.process(entry, stageContext())).to.equal(undefined);
  return entry.extracted;
}

describe("template stage", () => {
  // [name, template, extracted before, expected extracted after, source?]
  const cases: [string, string, Record<string, unknown>, Record<string, unknown>, string?][] = [
    // Promtail's documented behaviour and its tests.
    ["simple template", "{{ .Value }} appended", { v: "value" }, { v: "value appended" }],
    ["adds a missing source", "newval", { other: "value" }, { other: "value", v: "newval" }],
    ["several keys", "{{.Value}} in module {{.module}}", { v: "warn for app loki", module: "test" }, { v: "warn for app loki in module test", module: "test" }],
    ["several keys, source missing", "{{ .level }} for app {{ .app | ToUpper }}", { level: "warn", app: "loki" }, { level: "warn", app: "loki", v: "warn for app LOKI" }],
    ["a missing key prints <no value>", "{{.Value}} in module {{.module}}", { v: "warn" }, { v: "warn in module <no value>" }],
    ["values without text are left out of the data", "{{ Replace .Value \"Warning\" \"warn\" 1 }}", { v: "Warning", testval: null }, { v: "warn", testval: null }],
    ["ToLower as pipeline", "{{ .Value | ToLower }}", { v: "Value" }, { v: "value" }],
    ["ToLower as call", "{{ ToLower .Value }}", { v: "Value" }, { v: "value" }],
    ["ToLower of a missing value fails: entry unchanged", "{{ .Value | ToLower }}", {}, {}],
    ["Replace then ToLower", '{{ Replace .Value " " "_" -1 | ToLower }}', { v: "Some Silly Value With Lots Of Spaces" }, { v: "some_silly_value_with_lots_of_spaces" }],
    ["Replace n", '{{ Replace .Value "a" "b" 2 }}', { v: "aaaa" }, { v: "bbaa" }],
    ["if eq / else", '{{ if eq .Value "WARN" }}{{ Replace .Value "WARN" "OK" -1 }}{{ else }}{{ .Value }}{{ end }}', { v: "WARN" }, { v: "OK" }],
    ["if eq / else, other branch", '{{ if eq .Value "WARN" }}{{ Replace .Value "WARN" "OK" -1 }}{{ else }}{{ .Value }}{{ end }}', { v: "INFO" }, { v: "INFO" }],
    ["sprig add", "{{ add 7 3 }}", { v: "Value" }, { v: "10" }],
    ["regexReplaceAll with ${1}", '{{ regexReplaceAll "(Silly)" .Value "${1}foo" }}', { v: "Some Silly Value With Lots Of Spaces" }, { v: "Some Sillyfoo Value With Lots Of Spaces" }],
    ["regexReplaceAll alternation", '{{ regexReplaceAll "( |Of)" .Value "_" }}', { v: "Some Silly Value With Lots Of Spaces" }, { v: "Some_Silly_Value_With_Lots___Spaces" }],
    ["regexReplaceAll: $1x is group 1x (empty), as Go", '{{ regexReplaceAll "(a)" .Value "$1x" }}', { v: "bab" }, { v: "bb" }],
    ["regexReplaceAll: named groups and $$", '{{ regexReplaceAll "(?P<w>o+)" .Value "<${w}$$>" }}', { v: "foo" }, { v: "f<oo$>" }],
    ["regexReplaceAll: empty matches like Go", '{{ regexReplaceAll "a*" .Value "X" }}', { v: "baaac" }, { v: "XbXcX" }],
    ["regexReplaceAllLiteral keeps $", '{{ regexReplaceAllLiteral "[0-9]+" .Value "$1" }}', { v: "id=123" }, { v: "id=$1" }],
    ["Trim", '{{ Trim .Value "!" }}', { v: "!!!!!WOOOOO!!!!!" }, { v: "WOOOOO" }],
    ["TrimLeft / TrimRight", '{{ TrimLeft .Value "xy" }}|{{ TrimRight .Value "xy" }}', { v: "xyaxy" }, { v: "axy|xya" }],
    ["TrimPrefix / TrimSuffix", '{{ TrimPrefix .Value "pre-" }}|{{ TrimSuffix .Value "-suf" }}', { v: "pre-x-suf" }, { v: "x-suf|pre-x" }],
    ["TrimSpace: Go's Unicode spaces", "[{{ TrimSpace .Value }}]", { v: "\u00a0\t x \n\u3000" }, { v: "[x]" }],
    ["an empty result removes the source", "", { v: "WOOOOO" }, {}],
    ["an empty result does not add the source", "", {}, {}],
    ["Sha2Hash (sha256 of value + salt)", '{{ Sha2Hash .Value "salt" }}', { v: "this is PII data" }, { v: "5526fd6f8ad457279cf8ff06453c6cb61bf479fa826e3b099caa6c846f9376f2" }],
    ["Hash (sha3-256 of value + salt)", '{{ Hash .Value "salt" }}', { v: "this is PII data" }, { v: "0807ea24e992127128b38e4930f7155013786a4999c73a25910318a793847658" }],
    // Data: numbers and booleans print as Go; .Entry is the line.
    ["numbers and booleans as Promtail's getString", "{{ .n }} {{ .f }} {{ .b }}", { n: 1e21, f: 2.5, b: true }, { n: 1e21, f: 2.5, b: true, v: "1000000000000000000000 2.5 true" }],
    [".Entry is the line", "{{ .Entry | ToUpper }}", {}, { v: "NOT IMPORTANT FOR THIS TEST" }],
    ["Value follows source", "{{ .Value }}!", { lvl: "warn" }, { lvl: "warn!" }, "lvl"],
    // Go template syntax.
    ["trim markers", "a  {{- .Value -}}  \n b", { v: "V" }, { v: "aVb" }],
    ["comments", "{{/* nothing */}}x{{- /* trimmed */ -}} y", { v: "V" }, { v: "xy" }],
    ["else if chains", "{{ if eq .Value \"a\" }}A{{ else if eq .Value \"b\" }}B{{ else }}C{{ end }}", { v: "b" }, { v: "B" }],
    ["with rebinds dot", "{{ with .Value }}<{{ . }}>{{ else }}none{{ end }}", { v: "x" }, { v: "<x>" }],
    ["with else on a missing value", "{{ with .missing }}<{{ . }}>{{ else }}none{{ end }}", { v: "x" }, { v: "none" }],
    ["and / or / not", "{{ if and .Value (not .missing) }}yes{{ end }}{{ or .missing \"dflt\" }}", { v: "x" }, { v: "yesdflt" }],
    ["variables", "{{ $x := .Value }}{{ $x = ToUpper $x }}{{ $x }}", { v: "abc" }, { v: "ABC" }],
    ["$ is the data", "{{ with .Value }}{{ $.other }}{{ end }}", { v: "x", other: "o" }, { v: "o", other: "o" }],
    ["parenthesised pipelines", '{{ ToUpper (Replace .Value "a" "b" -1) }}', { v: "aa" }, { v: "BB" }],
    ["string escapes, raw strings, characters", '{{ "t\\tu\\u00e9\\x41" }}|{{ `r\\n` }}|{{ \'a\' }}', { v: "" }, { v: "t\tuéA|r\\n|97" }],
    ["comparisons", "{{ lt 1 2 }} {{ ge \"b\" \"a\" }} {{ ne .Value \"x\" }} {{ eq .Value \"y\" \"x\" }}", { v: "x" }, { v: "true true false true" }],
    ["eq on a missing value is false", '{{ eq .missing "x" }}', { v: "x" }, { v: "false" }],
    ["eq of mixed kinds fails: entry unchanged", '{{ eq 1 "1" }}', { v: "x" }, { v: "x" }],
    ["len counts bytes, index reads lists", '{{ len .Value }} {{ index (splitList "," "a,b") 1 }}', { v: "héllo" }, { v: "6 b" }],
    ["printf", '{{ printf "%s=%05d %q %.2f %v %x" .Value 42 "q" 3.14159 true 255 }}', { v: "k" }, { v: 'k=00042 "q" 3.14 true ff' }],
    ["printf with a wrong verb", '{{ printf "%d" .Value }}', { v: "k" }, { v: "%!d(string=k)" }],
    ["a field of a string fails: entry unchanged", "{{ .Value.foo }}", { v: "x" }, { v: "x" }],
    ["range over a list with index and element", '{{ range $i, $p := splitList "," .Value }}{{ if $i }};{{ end }}{{ $i }}={{ $p }}{{ end }}', { v: "a,b" }, { v: "0=a;1=b" }],
    ["range sets dot; break and continue", '{{ range splitList "," .Value }}{{ if eq . "skip" }}{{ continue }}{{ end }}{{ if eq . "stop" }}{{ break }}{{ end }}[{{ . }}]{{ end }}', { v: "a,skip,b,stop,c" }, { v: "[a][b]" }],
    ["range else on an empty list", '{{ range regexFindAll "[0-9]" .Value -1 }}{{ . }}{{ else }}no digits{{ end }}', { v: "abc" }, { v: "no digits" }],
    ["range over an integer", "{{ range $i := 3 }}{{ $i }}{{ end }}", { v: "" }, { v: "012" }],
    ["range over a string fails: entry unchanged", "{{ range .Value }}x{{ end }}", { v: "abc" }, { v: "abc" }],
    ["a range over a huge integer fails: entry unchanged", "{{ range 2000000 }}{{ end }}", { v: "abc" }, { v: "abc" }],
    ["output is capped at 1 MiB: entry unchanged", '{{ range 100000 }}{{ repeat 100 "x" }}{{ end }}', { v: "abc" }, { v: "abc" }],
    // sprig functions Promtail registers.
    ["sprig default", '{{ default "none" .missing }}/{{ .Value | default "none" }}', { v: "x" }, { v: "none/x" }],
    ["sprig strings", '{{ upper .Value }} {{ trunc 2 .Value }} {{ substr 1 3 .Value }} {{ replace "l" "L" .Value }} {{ contains "ell" .Value }} {{ hasPrefix "he" .Value }} {{ repeat 2 "ab" }} {{ quote .Value }}', { v: "hello" }, { v: 'HELLO he el heLLo true true abab "hello"' }],
    ["sprig numbers", "{{ sub 10 3 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 2 }} {{ max 1 5 3 }} {{ add1 .n }}", { n: "41", v: "" }, { n: "41", v: "7 24 3 1 5 42" }],
    ["sprig lists", '{{ join "-" (splitList "," .Value) }} {{ first (splitList "," .Value) }}', { v: "a,b,c" }, { v: "a-b-c a" }],
    ["sprig regex", '{{ regexMatch "^[0-9]+$" .Value }} {{ regexFind "[0-9]" .Value }} {{ regexFindAll "[0-9]" .Value -1 }}', { v: "123" }, { v: "true 1 [1 2 3]" }],
    ["sprig encodings and hashes", "{{ b64enc .Value }} {{ sha256sum .Value }}", { v: "hi" }, { v: "aGk= 8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4" }],
    ["sprig ternary / coalesce / empty", '{{ ternary "y" "n" (empty .missing) }} {{ coalesce .missing .Value }}', { v: "x" }, { v: "y x" }],
  ];
  for (const [name, tpl, before, after, source] of cases) {
    it(`${name}: ${tpl}`, () => {
      expect(run(tpl, before, source ?? "v")).to.deep.equal(after);
    });
  }

  it("ReDoS: a pathological pattern on a 100 KB line returns (linear-time engine)", () => {
    const line = "a".repeat(100_000) + "b";
    expect(run('{{ regexReplaceAll "(a+)+$" .Value "x" }}', { v: line })).to.deep.equal({ v: line.slice(0, -1) + "b" });
    expect(run('{{ regexMatch "^(a|aa)*c$" .Value }}', { v: line })).to.deep.equal({ v: "false" });
  });

  it("logs a failing template at debug level and leaves the entry as it was", () => {
    const stage = template({ source: "v", template: "{{ .Value | ToLower }}" }, "w", noNested);
    const ctx = stageContext();
    const entry = stageEntry({ extracted: { other: "x" } });
    stage.process(entry, ctx);
    expect(entry.extracted).to.deep.equal({ other: "x" });
    expect(ctx.log.lines).to.deep.equal([{ level: "debug", message: "template stage failed on an entry", attributes: { source: "v", error: "error calling ToLower: invalid value; expected string" } }]);
  });

  const where = "LOKI_STAGE_CONFIGS[2].template";
  const errors: [string, unknown, string][] = [
    ["options not an object", "{{ .Value }}", `${where}: must be an object of options`],
    ["missing source", { template: "x" }, `${where}.source: is required`],
    ["unknown option", { source: "v", template: "x", value: "y" }, `${where}.value: is not an option of this stage. Accepted form: one of source, template`],
    ["template not a string", { source: "v", template: 3 }, `${where}.template: must be a string`],
    ["unknown function, with its position", { source: "v", template: "ok\n{{ Foo .Value }}" }, `${where}.template: line 2, column 4: function "Foo" not defined`],
    ["sprig env is refused (it would expose credentials)", { source: "v", template: '{{ env "AWS_SECRET_ACCESS_KEY" }}' }, `${where}.template: line 1, column 4: function "env" not defined`],
    ["unclosed action", { source: "v", template: "{{ .Value " }, `${where}.template: line 1, column 1: unclosed action`],
    ["if without end", { source: "v", template: "{{ if .Value }}x" }, `${where}.template: line 1, column 17: unexpected EOF`],
    ["end without if", { source: "v", template: "x{{ end }}" }, `${where}.template: line 1, column 5: unexpected {{end}}`],
    ["unterminated string", { source: "v", template: '{{ "abc }}' }, `${where}.template: line 1, column 4: unterminated quoted string`],
    ["bad escape", { source: "v", template: '{{ "\\q" }}' }, `${where}.template: line 1, column 5: invalid syntax in escape sequence`],
    ["define is not supported", { source: "v", template: '{{ define "x" }}{{ end }}' }, `${where}.template: line 1, column 4: {{define}} is not supported`],
    ["break outside range", { source: "v", template: "{{ if .Value }}{{ break }}{{ end }}" }, `${where}.template: line 1, column 19: {{break}} outside {{range}}`],
    ["an invalid literal regex fails at cold start", { source: "v", template: '{{ regexReplaceAll "\\\\K" .Value "x" }}' }, `${where}.template: line 1, column 20: regexReplaceAll: regex "\\\\K": invalid escape sequence`],
    ["nil is not a command", { source: "v", template: "{{ nil }}" }, `${where}.template: line 1, column 4: nil is not a command`],
  ];
  for (const [name, options, message] of errors) {
    it(`refuses at cold start: ${name}`, () => {
      expect(() => template(options, where, noNested))
        .to.throw(ConfigError)
        .with.property("message")
        .that.satisfy((m: string) => m.startsWith(message));
    });
  }
});
