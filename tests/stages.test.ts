import { createHash } from "node:crypto";
import { expect } from "chai";
import { ConfigError, parseShipperConfig } from "../handler/config";
import * as jmespath from "@jmespath-community/jmespath";
import { compileStages, REJECTED_STAGES, STAGES } from "../handler/stages/index";
import { goJson } from "../handler/stages/json";
import { redactLuhn } from "../handler/stages/luhn";
import { traceStages } from "../handler/stages/trace";
import type { StageEntry } from "../handler/stages/types";
import { MemoryLog } from "./support/events";
import { stageRefusal as refusal } from "./support/stages";

const NOW_MS = Date.UTC(2026, 11, 1, 12, 0, 0);

interface Outcome {
  labels: Record<string, string>;
  extracted: Record<string, unknown>;
  line: string;
  metadata: Record<string, string>;
  dropped?: string;
}

/** Runs a LOKI_STAGE_CONFIGS value on one entry, as the shipper starts it: labels = extracted. */
function run(stages: unknown[], line: string, labels: Record<string, string> = { app: "web" }, sec = NOW_MS / 1000): Outcome {
  const pipeline = compileStages(stages, "LOKI_STAGE_CONFIGS");
  const entry: StageEntry = { labels: { ...labels }, extracted: { ...labels }, line, sec, nsec: 0, metadata: {} };
  const result = pipeline.run(entry, { log: new MemoryLog(), now: () => NOW_MS, random: Math.random });
  return { labels: entry.labels, extracted: entry.extracted, line: entry.line, metadata: entry.metadata, dropped: result?.drop };
}

type Case = [what: string, stages: unknown[], line: string, expected: Partial<Outcome>];

function table(cases: Case[]): void {
  for (const [what, stages, line, expected] of cases) {
    it(what, () => {
      const out = run(stages, line);
      for (const key of Object.keys(expected) as Array<keyof Outcome>) expect(out[key], key).to.deep.equal(expected[key]);
      if (!("dropped" in expected)) expect(out.dropped, "dropped").to.equal(undefined);
    });
  }
}

const JSON_LINE = '{"level":"warn","msg":"slow request","http":{"status":504,"path":"/api"},"tags":["a","b"],"dur":0.25,"ok":false,"none":null,"dotted.key":"d","big":1e21}';

describe("stages: json", () => {
  table([
    ["extracts fields, nested paths and quoted keys", [{ json: { expressions: { level: "", status: "http.status", dk: '"dotted.key"' } } }], JSON_LINE,
      { extracted: { app: "web", level: "warn", status: 504, dk: "d" } }],
    ["extracts objects and arrays as Go's JSON text (keys sorted)", [{ json: { expressions: { http: "", tags: "" } } }], JSON_LINE,
      { extracted: { app: "web", http: '{"path":"/api","status":504}', tags: '["a","b"]' } }],
    ["extracts booleans, null and missing fields as they are (missing: null)", [{ json: { expressions: { ok: "", none: "", missing: "" } } }], JSON_LINE,
      { extracted: { app: "web", ok: false, none: null, missing: null } }],
    ["evaluates full JMESPath (functions, indexes, projections)", [{ json: { expressions: { first: "tags[0]", n: "length(tags)", up: "to_string(http.status)" } } }], JSON_LINE,
      { extracted: { app: "web", first: "a", n: 2, up: "504" } }],
    ["leaves malformed JSON alone", [{ json: { expressions: { level: "" } } }], '{"level": "warn"', { line: '{"level": "warn"', extracted: { app: "web" } }],
    ["leaves a JSON array (not an object) alone", [{ json: { expressions: { level: "" } } }], '[{"level":"x"}]', { extracted: { app: "web" } }],
    ["drops malformed JSON with drop_malformed", [{ json: { expressions: { level: "" }, drop_malformed: true } }], "plain text", { dropped: "malformed_json" }],
    ["extracts a nested field and its parent object together", [{ json: { expressions: { inner: "" } } }, { json: { expressions: { deep: "inner.x" } } }], '{"inner":{"x":"y"}}',
      { extracted: { app: "web", inner: '{"x":"y"}', deep: "y" } }],
    ["reads source", [{ json: { expressions: { inner: "" } } }, { json: { expressions: { x: "" }, source: "inner" } }], '{"inner":{"x":"y"}}',
      { extracted: { app: "web", inner: '{"x":"y"}', x: "y" } }],
    ["does nothing when source is missing", [{ json: { expressions: { x: "" }, source: "nope", drop_malformed: true } }], "text", { extracted: { app: "web" } }],
  ]);

  describe("field paths, read without the JMESPath interpreter, give the interpreter's results", () => {
    const LINES = [
      JSON_LINE,
      '{"a":{"b":{"c":1}},"arr":[{"b":2}],"s":"text","n":null,"z":0,"f":false,"e":{},"ea":[]}',
      '{"__proto__":{"x":"own proto"},"constructor":"own","toString":5,"a":{"__proto__":"p"}}',
      '{"a.b":"dotted","a":{"b":"nested"},"":"empty key","\u00e9":"accent","a b":"space","1":"digit"}',
      '{"a":"first","a":{"b":"second wins"}}',
      '{"deep":{"x":{"y":{"z":[1,{"k":"v"}]}}},"big":12345678901234567890,"neg":-0.0,"exp":1e-7,"u":"\u2028<&>"}',
      '{"obj":{"hasOwnProperty":1,"valueOf":{"x":2}},"expref":false}',
    ];
    const PATHS = [
      "a", "a.b", "a.b.c", '"a.b"', "arr", "arr.b", "s.length", "n.x", "z", "f", "e", "ea", "missing", "missing.x", "level", "http.status",
      '""', '"é"', '"\\u00e9"', '"a b"', '"1"', "deep.x.y.z", "big", "neg", "exp", "u", "expref",
      // Names every JavaScript object inherits: JMESPath (and Go) find no such field unless the JSON has it.
      "__proto__", "__proto__.x", "constructor", "toString", "valueOf", "hasOwnProperty", "a.__proto__", "a.constructor", "obj.hasOwnProperty", "obj.valueOf.x", "obj.isPrototypeOf",
    ];
    const extract = (expression: string, line: string): unknown => run([{ json: { expressions: { v: expression } } }], line).extracted.v;
    const INHERITED = /__proto__|constructor|toString|valueOf|hasOwnProperty|isPrototypeOf/;

    it(`${PATHS.length} paths on ${LINES.length} lines: the same value as the interpreter (a pipe makes it evaluate the path)`, () => {
      for (const line of LINES) {
        for (const path of PATHS) {
          expect(extract(path, line), `${path} on ${line}`).to.deep.equal(extract(`${path} | @`, line));
          if (INHERITED.test(path)) continue;
          // And for ordinary names, what the library itself answers on the parsed line.
          const library = jmespath.search(JSON.parse(line) as jmespath.JSONValue, path);
          const expected = typeof library === "object" && library !== null ? goJson(library) : library;
          expect(extract(path, line), `library: ${path} on ${line}`).to.deep.equal(expected);
        }
      }
    });

    it("a stage whose expressions are all top-level fields (read in one loop) extracts what the interpreter does for each", () => {
      // Keys with dots, quotes, backslashes, spaces, unicode and escapes; every kind of value; a repeated key (the last wins).
      const lines = [
        ...LINES,
        '{"q\\"k":"quoted key","b\\\\k":"backslash key","tab":"a\\tb\\u0000c","emoji":"\ud83d\ude00 \\ud83d\\ude00","lone":"\\ud800","esc":"\\"\\\\\\/\\b\\f\\n\\r\\t"}',
        '{"level":"info","level":"error","status":200,"ratio":-1.5e-3,"huge":1e400,"int":9007199254740993,"t":true,"arr":[1,"two",null,{"b":[]}],"o":{"z":1,"a":{"y":2,"b":3}}}',
        '  {"level" : "spaced" , "n" : 0 }  ',
        "{}",
        '{"hasOwnProperty":"own","valueOf":null,"isPrototypeOf":{"x":1},"__lookupGetter__":0,"toString":false}',
      ];
      const fields = [
        "level", "msg", "status", "ratio", "huge", "int", "t", "f", "n", "z", "arr", "o", "e", "ea", "s", "big", "neg", "exp", "u", "tags", "http", "none", "ok",
        '"dotted.key"', '"a.b"', '"q\\"k"', '"b\\\\k"', '"a b"', '"1"', '""', '"é"', "tab", "emoji", "lone", "esc", "constructor", "toString", "__proto__", "missing",
        "hasOwnProperty", "valueOf", "isPrototypeOf", "__lookupGetter__", "propertyIsEnumerable",
      ];
      const expressions = Object.fromEntries(fields.map((field, i) => [`f${i}`, field]));
      const interpreted = Object.fromEntries(fields.map((field, i) => [`f${i}`, `${field} | @`]));
      for (const line of lines) {
        expect(run([{ json: { expressions } }], line).extracted, line).to.deep.equal(run([{ json: { expressions: interpreted } }], line).extracted);
      }
    });

    it("an inherited name is no field: null, unless the JSON has it (also through the interpreter)", () => {
      for (const expression of ["constructor", "toString", "a.constructor", "constructor | @", "length(keys(@)) > `0` && constructor"]) {
        expect(extract(expression, '{"a":{"b":1}}'), expression).to.equal(null);
      }
      expect(extract("__proto__", '{"a":1}')).to.equal(null);
      expect(extract("constructor", '{"constructor":"own"}')).to.equal("own");
      expect(extract("__proto__.x | @", '{"__proto__":{"x":"own"}}')).to.equal("own");
    });
  });

  const refused: Array<[string, unknown, string, RegExp]> = [
    ["no expressions", { json: {} }, "LOKI_STAGE_CONFIGS[0].json.expressions", /is required/],
    ["empty expressions", { json: { expressions: {} } }, "LOKI_STAGE_CONFIGS[0].json.expressions", /at least one/],
    ["a bad JMESPath expression", { json: { expressions: { a: "foo[" } } }, "LOKI_STAGE_CONFIGS[0].json.expressions.a", /"foo\[" is not a valid JMESPath expression/],
    ["a non-string expression", { json: { expressions: { a: 3 } } }, "LOKI_STAGE_CONFIGS[0].json.expressions.a", /must be a string or empty, got number 3/],
    ["an unknown option with a suggestion", { json: { expressions: { a: "" }, dropMalformed: true } }, "LOKI_STAGE_CONFIGS[0].json.dropMalformed", /is not an option of this stage \(did you mean "drop_malformed"\?\)/],
    ["a non-boolean drop_malformed", { json: { expressions: { a: "" }, drop_malformed: "yes" } }, "LOKI_STAGE_CONFIGS[0].json.drop_malformed", /must be true or false, got string "yes"/],
  ];
  for (const [what, stage, setting, problem] of refused) {
    it(`refuses ${what}, naming ${setting}`, () => {
      const err = refusal([stage]);
      expect(err.setting).to.equal(setting);
      expect(err.problem).to.match(problem);
      expect(err.message).to.include("Accepted form:");
    });
  }
});

describe("stages: logfmt", () => {
  const line = 'level=info msg="hello \\"world\\"" dur=12ms flag path=/x unicode="\\u00e9"';
  table([
    ["extracts mapped keys, quoted values with escapes, and a bare key as empty", [{ logfmt: { mapping: { level: "", message: "msg", flag: "", u: "unicode" } } }], line,
      { extracted: { app: "web", level: "info", message: 'hello "world"', flag: "", u: "é" } }],
    ["ignores keys not in mapping and missing keys", [{ logfmt: { mapping: { nope: "" } } }], line, { extracted: { app: "web" } }],
    ["keeps what was read before a malformed pair", [{ logfmt: { mapping: { a: "", b: "" } } }], 'a=1 "oops" b=2', { extracted: { app: "web", a: "1" } }],
    ["reads source", [{ regex: { expression: "^(?P<rest>.*)$" } }, { logfmt: { mapping: { k: "" }, source: "rest" } }], "k=v", { extracted: { app: "web", rest: "k=v", k: "v" } }],
  ]);
  it("refuses a missing mapping", () => {
    expect(refusal([{ logfmt: { source: "x" } }]).setting).to.equal("LOKI_STAGE_CONFIGS[0].logfmt.mapping");
  });
});

describe("stages: regex", () => {
  table([
    ["extracts named groups (found anywhere in the line)", [{ regex: { expression: "status=(?P<status>\\d+) .*user=(?P<user>\\w+)" } }], "GET / status=200 t=1 user=bob",
      { extracted: { app: "web", status: "200", user: "bob" } }],
    ["extracts \"\" for a named group that did not take part", [{ regex: { expression: "(?P<a>x)?(?P<b>y)" } }], "y", { extracted: { app: "web", a: "", b: "y" } }],
    ["leaves the entry alone without a match", [{ regex: { expression: "(?P<a>zzz)" } }], "abc", { extracted: { app: "web" } }],
    ["reads source (the initial labels are extracted values)", [{ regex: { expression: "^(?P<tier>[a-z]+)", source: "app" } }], "x", { extracted: { app: "web", tier: "web" } }],
    ["runs a pathological pattern on a 100 KB hostile line in linear time", [{ regex: { expression: "(?P<a>(a+)+$)" } }], "a".repeat(100_000) + "b", { extracted: { app: "web" } }],
  ]);
  it("refuses a missing or invalid expression, naming it", () => {
    expect(refusal([{ regex: {} }]).setting).to.equal("LOKI_STAGE_CONFIGS[0].regex.expression");
    const err = refusal([{ json: { expressions: { a: "" } } }, { regex: { expression: "(?<=x)y" } }]);
    expect(err.setting).to.equal("LOKI_STAGE_CONFIGS[1].regex.expression");
    expect(err.problem).to.match(/is not a valid regular expression: .*lookbehind assertions .* are not supported by RE2/);
  });
});

const ACCESS_LINE = '11.11.11.11 - frank [25/Jan/2000:14:00:01 -0500] "GET /1986.js HTTP/1.1" 200 932 "-" "Mozilla/5.0 (Windows; U; de) Firefox/3.5.7"';
const STATUS_TEMPLATE = '{{ if eq .Value "200" }}{{ Replace .Value "200" "HttpStatusOk" -1 }}{{ else }}{{ .Value | ToUpper }}{{ end }}';

describe("stages: replace", () => {
  table([
    ["replaces each capture group of every match", [{ replace: { expression: "password=(\\S+)", replace: "****" } }], "user=a password=secret1 x password=secret2",
      { line: "user=a password=**** x password=****" }],
    ["templates {{ .Value }} and keeps the text outside groups", [{ replace: { expression: "id=(\\d+)", replace: "<{{ .Value }}>" } }], "id=12 id=3", { line: "id=<12> id=<3>" }],
    // Promtail's replace_test.go: a full template with functions, and named groups extracted with their replacement.
    ["runs a full Go template and extracts named groups with their replacement (Promtail's example)",
      [{ replace: { expression: '^(?P<ip>\\S+) (?P<identd>\\S+) (?P<user>\\S+) \\[(?P<timestamp>[\\w:/]+\\s[+\\-]\\d{4})\\] "(?P<action>\\S+)\\s?(?P<path>\\S+)?\\s?(?P<protocol>\\S+)?" (?P<status>\\d{3}|-) (\\d+|-)\\s?"?(?P<referer>[^"]*)"?\\s?"?(?P<useragent>[^"]*)?"?$', replace: STATUS_TEMPLATE } }],
      ACCESS_LINE,
      {
        line: '11.11.11.11 - FRANK [25/JAN/2000:14:00:01 -0500] "GET /1986.JS HTTP/1.1" HttpStatusOk 932 "-" "MOZILLA/5.0 (WINDOWS; U; DE) FIREFOX/3.5.7"',
        extracted: {
          app: "web", ip: "11.11.11.11", identd: "-", user: "FRANK", timestamp: "25/JAN/2000:14:00:01 -0500", action: "GET", path: "/1986.JS",
          protocol: "HTTP/1.1", status: "HttpStatusOk", referer: "-", useragent: "MOZILLA/5.0 (WINDOWS; U; DE) FIREFOX/3.5.7",
        },
      }],
    ["replaces an outer group once and still extracts the nested ones",
      [{ replace: { expression: "(?P<ip_user>^(?P<ip>\\S+) - (?P<user>\\S+))", replace: "{{ .Value | ToUpper }}" } }], ACCESS_LINE,
      { line: ACCESS_LINE.replace("frank", "FRANK"), extracted: { app: "web", ip_user: "11.11.11.11 - FRANK", ip: "11.11.11.11", user: "FRANK" } }],
    ["sees the extracted values that came before, not this match's groups (<no value>)",
      [{ replace: { expression: "(?P<user>\\w+)@example\\.com", replace: "{{ .app }}:{{ .user }}" } }], "mail bob@example.com",
      { line: "mail web:<no value>@example.com", extracted: { app: "web", user: "web:<no value>" } }],
    ["pseudonymises with a template function (the README's recipe)", [{ replace: { expression: "user_email=(\\S+)", replace: '{{ Sha2Hash .Value "my-salt" }}' } }], "user_email=a@b.c x",
      { line: `user_email=${createHash("sha256").update("a@b.cmy-salt").digest("hex")} x` }],
    ["replaces adjacent capture groups", [{ replace: { expression: "(a|b|c)", replace: "" } }], "abc", { line: "" }],
    ["leaves the entry alone when the template fails on it", [{ replace: { expression: "(?P<n>x)", replace: "{{ .missing | ToUpper }}" } }], "x y", { line: "x y", extracted: { app: "web" } }],
    ["changes nothing for a pattern without groups", [{ replace: { expression: "secret", replace: "x" } }], "a secret", { line: "a secret" }],
    ["deletes with an empty replace", [{ replace: { expression: "(\\s+debug)" } }], "msg debug", { line: "msg" }],
    ["writes back to source", [{ replace: { expression: "(w)", replace: "W", source: "app" } }], "line", { line: "line", extracted: { app: "Web" } }],
    ["does nothing when source is missing", [{ replace: { expression: "(x)", replace: "y", source: "nope" } }], "x", { line: "x" }],
  ]);
  it("refuses a template that does not parse, with its position", () => {
    const err = refusal([{ replace: { expression: "(x)", replace: "{{ ToUpper .Value " } }]);
    expect(err.setting).to.equal("LOKI_STAGE_CONFIGS[0].replace.replace");
    expect(err.problem).to.match(/^line 1, column \d+: .* in "\{\{ ToUpper \.Value "$/);
  });
  it("refuses an unknown template function", () => {
    const err = refusal([{ replace: { expression: "(x)", replace: "{{ Nope .Value }}" } }]);
    expect(err.setting).to.equal("LOKI_STAGE_CONFIGS[0].replace.replace");
    expect(err.problem).to.match(/Nope/);
  });
});

describe("stages: labels, labelallow, labeldrop, static_labels, structured_metadata, output", () => {
  table([
    ["labels copies extracted values (empty: same name), numbers in Go's form", [{ json: { expressions: { level: "", code: "http.status", big: "" } } }, { labels: { level: "", status: "code", big: "" } }], JSON_LINE,
      { labels: { app: "web", level: "warn", status: "504", big: "1000000000000000000000" } }],
    ["labels skips missing and null values", [{ json: { expressions: { none: "", level: "" } } }, { labels: { none: "", nope: "", level: "" } }], JSON_LINE,
      { labels: { app: "web", level: "warn" } }],
    ["labelallow keeps only the listed labels", [{ static_labels: { env: "prod", team: "x" } }, { labelallow: ["app", "env"] }], "l", { labels: { app: "web", env: "prod" } }],
    ["labeldrop removes the listed labels", [{ labeldrop: ["app", "missing"] }, { static_labels: { env: "prod" } }], "l", { labels: { env: "prod" } }],
    ["structured_metadata copies extracted values into metadata", [{ json: { expressions: { msg: "", status: "http.status" } } }, { structured_metadata: { message: "msg", status: "" } }], JSON_LINE,
      { metadata: { message: "slow request", status: "504" }, labels: { app: "web" } }],
    ["output replaces the line with an extracted value", [{ json: { expressions: { msg: "" } } }, { output: { source: "msg" } }], JSON_LINE, { line: "slow request" }],
    ["output leaves the line alone when the value is missing", [{ output: { source: "nope" } }], "same", { line: "same" }],
    ["output leaves the line alone when the value is null (Promtail's getString has no text for null)", [{ json: { expressions: { none: "" } } }, { output: { source: "none" } }], JSON_LINE, { line: JSON_LINE }],
    ["structured_metadata skips null values", [{ json: { expressions: { none: "", msg: "" } } }, { structured_metadata: { none: "", msg: "" } }], JSON_LINE, { metadata: { msg: "slow request" } }],
  ]);
  const refused: Array<[unknown, string, RegExp]> = [
    [{ labels: { "bad-name": "" } }, "LOKI_STAGE_CONFIGS[0].labels.bad-name", /is not a valid label name/],
    [{ labels: [] }, "LOKI_STAGE_CONFIGS[0].labels", /must be an object, got an array/],
    [{ labelallow: { values: ["a"] } }, "LOKI_STAGE_CONFIGS[0].labelallow", /must be a list of label names, got an object/],
    [{ labeldrop: ["ok", "no-t"] }, "LOKI_STAGE_CONFIGS[0].labeldrop[1]", /string "no-t" is not a valid label name/],
    [{ static_labels: { env: "" } }, "LOKI_STAGE_CONFIGS[0].static_labels.env", /must be a non-empty string/],
    [{ output: {} }, "LOKI_STAGE_CONFIGS[0].output.source", /is required/],
    [{ structured_metadata: { "1x": "" } }, "LOKI_STAGE_CONFIGS[0].structured_metadata.1x", /is not a valid label name/],
  ];
  for (const [stage, setting, problem] of refused) {
    it(`refuses ${JSON.stringify(stage)}, naming ${setting}`, () => {
      const err = refusal([stage]);
      expect(err.setting).to.equal(setting);
      expect(err.problem).to.match(problem);
    });
  }
});

describe("stages: drop", () => {
  const old = NOW_MS / 1000 - 7200;
  const cases: Array<[string, unknown, string, number, string | undefined]> = [
    ["expression on the line", { expression: "GET /health" }, "GET /health 200", NOW_MS / 1000, "drop_stage"],
    ["expression that does not match", { expression: "GET /health" }, "GET /api 200", NOW_MS / 1000, undefined],
    ["source present (any value)", { source: "app" }, "x", NOW_MS / 1000, "drop_stage"],
    ["source missing", { source: "nope" }, "x", NOW_MS / 1000, undefined],
    ["source with value equal", { source: "app", value: "web" }, "x", NOW_MS / 1000, "drop_stage"],
    ["source with value different", { source: "app", value: "api" }, "x", NOW_MS / 1000, undefined],
    ["sources joined by separator, with expression", { source: ["app", "app"], separator: "|", expression: "^web\\|web$" }, "x", NOW_MS / 1000, "drop_stage"],
    ["older_than, old entry", { older_than: "1h" }, "x", old, "drop_stage"],
    ["older_than, recent entry", { older_than: "1h" }, "x", NOW_MS / 1000 - 60, undefined],
    ["longer_than, long line (UTF-8 bytes)", { longer_than: "8B" }, "ééééé", NOW_MS / 1000, "drop_stage"],
    ["longer_than, short line", { longer_than: 8 }, "short", NOW_MS / 1000, undefined],
    // Promtail reads longer_than as Loki's flagext.ByteSize: 1KB is 1024 bytes, as 1KiB.
    ["longer_than 1KB, a line of 1024 bytes", { longer_than: "1KB" }, "x".repeat(1024), NOW_MS / 1000, undefined],
    ["longer_than 1KB, a line of 1025 bytes", { longer_than: "1KB" }, "x".repeat(1025), NOW_MS / 1000, "drop_stage"],
    ["longer_than 1kib, a line of 1025 bytes", { longer_than: "1kib" }, "x".repeat(1025), NOW_MS / 1000, "drop_stage"],
    ["all conditions must hold", { expression: "x", older_than: "1h" }, "x", NOW_MS / 1000, undefined],
    ["a custom drop_counter_reason", { expression: "health", drop_counter_reason: "health_checks" }, "health", NOW_MS / 1000, "health_checks"],
  ];
  for (const [what, options, line, sec, reason] of cases) {
    it(`${reason === undefined ? "keeps" : "drops"}: ${what}`, () => {
      expect(run([{ drop: options }], line, { app: "web" }, sec).dropped).to.equal(reason);
    });
  }
  const refused: Array<[unknown, string, RegExp]> = [
    [{}, "LOKI_STAGE_CONFIGS[0].drop.source", /would drop nothing/],
    [{ source: "a", value: "x", expression: "y" }, "LOKI_STAGE_CONFIGS[0].drop.value", /cannot be set together with expression/],
    [{ value: "x" }, "LOKI_STAGE_CONFIGS[0].drop.value", /needs a source/],
    [{ older_than: "1 hour" }, "LOKI_STAGE_CONFIGS[0].drop.older_than", /"1 hour" is not a positive duration/],
    [{ longer_than: "8 lines" }, "LOKI_STAGE_CONFIGS[0].drop.longer_than", /is not a size/],
    [{ longer_than: "1.5KB" }, "LOKI_STAGE_CONFIGS[0].drop.longer_than", /is not a size/],
    [{ expression: "(" }, "LOKI_STAGE_CONFIGS[0].drop.expression", /missing closing \)/],
  ];
  for (const [stage, setting, problem] of refused) {
    it(`refuses ${JSON.stringify(stage)}, naming ${setting}`, () => {
      const err = refusal([{ drop: stage }]);
      expect(err.setting).to.equal(setting);
      expect(err.problem).to.match(problem);
    });
  }
});

describe("stages: decolorize and luhn", () => {
  table([
    ["decolorize removes ANSI colours and cursor sequences", [{ decolorize: null }], "\x1b[31mERROR\x1b[0m \x1b[1;32mok\x1b[K done", { line: "ERROR ok done" }],
    ["decolorize leaves plain lines alone", [{ decolorize: {} }], "plain [31m", { line: "plain [31m" }],
    ["luhn masks a card number that passes the checksum", [{ luhn: {} }], "card 4111111111111111 ok", { line: "card **REDACTED** ok" }],
    ["luhn keeps numbers that fail the checksum", [{ luhn: {} }], "order 4111111111111112", { line: "order 4111111111111112" }],
    ["luhn honours replacement and min_length", [{ luhn: { replacement: "#", min_length: 4 } }], "pin 4242 and 1234", { line: "pin # and 1234" }],
  ]);
  const LUHN_CASES: Array<[what: string, input: string, expected: string]> = [
    ["several plain numbers", "a 5555555555554444,378282246310005 b", "a X,X b"],
    ["a number printed in groups of four with spaces", "card 4111 1111 1111 1111 ok", "card X ok"],
    ["a number printed in groups of four with dashes", "card 4111-1111-1111-1111.", "card X."],
    ["an Amex number printed 4-6-5", "amex 3782 822463 10005", "amex X"],
    ["a 19-digit number printed 4-4-4-4-3", "visa 4000 0000 0000 0000 006", "visa X"],
    ["a card number next to other digit groups (the longest passing window)", "on 2024 06 01 paid 4111 1111 1111 1111 2024", "on 2024 06 01 paid X 2024"],
    ["groups that fail the checksum", "card 4111 1111 1111 1112", "card 4111 1111 1111 1112"],
    ["mixed separators are two numbers, each too short", "4111 1111-1111 1111", "4111 1111-1111 1111"],
    ["two spaces do not join groups", "4111  1111  1111  1111", "4111  1111  1111  1111"],
    ["single digits joined by spaces are no card number", "1 2 3 4 5 6 7 8 9 0 1 2 4", "1 2 3 4 5 6 7 8 9 0 1 2 4"],
    ["short runs alone", "pin 1234 id 42", "pin 1234 id 42"],
  ];
  for (const [what, input, expected] of LUHN_CASES) {
    it(`luhn: ${what}`, () => expect(redactLuhn(input, "X", 13)).to.equal(expected));
  }
});

describe("stages: the stage list", () => {
  it("registers every stage of this module under its Promtail name", () => {
    expect(Object.keys(STAGES)).to.include.members(["json", "logfmt", "regex", "replace", "labels", "labelallow", "labeldrop", "static_labels", "structured_metadata", "output", "drop", "decolorize", "luhn"]);
  });

  it("stops at the first stage that drops", () => {
    const out = run([{ drop: { expression: "x" } }, { static_labels: { seen: "yes" } }], "x");
    expect(out.dropped).to.equal("drop_stage");
    expect(out.labels).to.deep.equal({ app: "web" });
  });

  for (const name of Object.keys(REJECTED_STAGES)) {
    it(`refuses the ${name} stage, saying why and what to use instead`, () => {
      const err = refusal([{ [name]: {} }]);
      expect(err.setting).to.equal(`LOKI_STAGE_CONFIGS[0].${name}`);
      expect(err.problem).to.match(/^is not supported in this function: .+; .+/);
    });
  }

  const refused: Array<[string, unknown, string, RegExp]> = [
    ["a non-array", { json: {} }, "LOKI_STAGE_CONFIGS", /must be a JSON array of stages, got an object/],
    ["an element with two stages", [{ json: {}, labels: {} }], "LOKI_STAGE_CONFIGS[0]", /names 2 stages \(json, labels\)/],
    ["an empty element", [{}], "LOKI_STAGE_CONFIGS[0]", /names no stage/],
    ["a string element", ["json"], "LOKI_STAGE_CONFIGS[0]", /must be an object with one stage name, got string "json"/],
    ["an unknown stage with a suggestion", [{ jsn: {} }], "LOKI_STAGE_CONFIGS[0].jsn", /is not a known stage \(did you mean "json"\?\)/],
    ["options that are not an object", [{ json: "level" }], "LOKI_STAGE_CONFIGS[0].json", /must be an object of options, got string "level"/],
  ];
  for (const [what, stages, setting, problem] of refused) {
    it(`refuses ${what}, naming ${setting}`, () => {
      const err = refusal(stages);
      expect(err.setting).to.equal(setting);
      expect(err.problem).to.match(problem);
    });
  }

  it("reads LOKI_STAGE_CONFIGS and PIPELINE_TIMEOUT from the environment, refusing bad JSON and durations", () => {
    const base = { WRITE_ADDRESS: "http://127.0.0.1:1/" };
    expect(parseShipperConfig(base).stages).to.equal(undefined);
    expect(parseShipperConfig({ ...base, LOKI_STAGE_CONFIGS: "[]" }).stages).to.equal(undefined);
    expect(parseShipperConfig({ ...base, LOKI_STAGE_CONFIGS: '[{"decolorize":null}]' }).stages?.stages).to.have.length(1);
    expect(() => parseShipperConfig({ ...base, LOKI_STAGE_CONFIGS: "[{json" })).to.throw(ConfigError, /^LOKI_STAGE_CONFIGS: is not valid JSON/);
    expect(parseShipperConfig({ ...base, PIPELINE_TIMEOUT: "1m30s" }).pipelineTimeoutMs).to.equal(90_000);
    expect(() => parseShipperConfig({ ...base, PIPELINE_TIMEOUT: "soon" })).to.throw(ConfigError, /^PIPELINE_TIMEOUT: "soon" is not a positive duration/);
  });
});

describe("stages: the per-stage trace (npm run replay -- --trace)", () => {
  it("says what each stage changed, and stops at the stage that drops", () => {
    const pipeline = compileStages([
      { json: { expressions: { level: "" } } },
      { labels: { level: "" } },
      { static_labels: { app: "web" } },
      { drop: { source: "level", value: "debug" } },
      { output: { source: "level" } },
    ], "LOKI_STAGE_CONFIGS");
    const entry: StageEntry = { labels: { app: "web" }, extracted: { app: "web" }, line: '{"level":"debug"}', sec: 1, nsec: 0, metadata: {} };
    const steps = traceStages(pipeline.stages, entry, { log: new MemoryLog(), now: () => NOW_MS, random: Math.random });
    expect(steps).to.deep.equal([
      { stage: "[0] json", changes: ['extracted level = "debug"'] },
      { stage: "[1] labels", changes: ['label level = "debug"'] },
      { stage: "[2] static_labels", changes: [] },
      { stage: "[3] drop", changes: [], dropped: "drop_stage" },
    ]);
  });
});
