/**
 * The regex engine (handler/regex.ts, re2js) on the patterns relabel rules and stages run,
 * against V8's own backtracking RegExp on the same patterns in the same run (the ratio is the
 * figure; absolute times are noisy here), and against the native `re2` binding when it happens
 * to be installed (it is not a dependency: see the README's Dependencies section).
 */
import { Regex } from "../handler/regex";
import { row } from "./support";

const ACCESS = '10.0.1.23 - - [01/Dec/2026:14:02:11 +0000] "GET /api/v1/orders/12345?expand=items HTTP/1.1" 200 5123 "-" "Mozilla/5.0 (X11; Linux x86_64)" rt=0.012 password=hunter2';
const JSON_LINE = '{"level":"info","ts":"2026-12-01T14:02:11.123Z","msg":"request served","path":"/api/v1/orders/12345","status":200,"request_id":"9f1c3a2e-7b4d-4e8a"}';

interface Case {
  name: string;
  pattern: string;
  input: string;
  op: "full" | "find" | "test";
}

const CASES: Case[] = [
  { name: "relabel /aws/lambda/(.+), full match", pattern: "/aws/lambda/(.+)", input: "/aws/lambda/orders-service-prod", op: "full" },
  { name: "stage regex, access-log groups", pattern: '^(?P<ip>\\S+) \\S+ \\S+ \\[(?P<ts>[^\\]]+)\\] "(?P<method>\\S+) (?P<path>\\S+)', input: ACCESS, op: "find" },
  { name: "drop health checks (no match)", pattern: "GET /(health|ping|ready)", input: ACCESS, op: "test" },
  { name: "replace password=(\\S+)", pattern: "password=(\\S+)", input: ACCESS, op: "find" },
  { name: "json-ish level", pattern: '"level":"(?P<level>[a-z]+)"', input: JSON_LINE, op: "find" },
];

function nsPerOp(fn: () => unknown): number {
  for (let i = 0; i < 2000; i++) fn();
  let runs = 2000;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) fn();
    const ns = Number(process.hrtime.bigint() - start);
    if (ns > 2e8 || runs >= 1_000_000) return ns / runs;
    runs *= 4;
  }
}

type Native = new (pattern: string, flags?: string) => RegExp;

function loadNativeRe2(): Native | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional, measured only when present
    return require("re2") as Native;
  } catch {
    return undefined;
  }
}

function main(): void {
  const native = loadNativeRe2();
  console.log("Regex engine: re2js (handler/regex.ts) vs V8 RegExp (backtracking) on the same patterns, same run");
  for (const c of CASES) {
    const re = Regex.compile(c.pattern);
    const js = new RegExp(c.op === "full" ? `^(?:${c.pattern})$` : c.pattern.replace(/\(\?P</g, "(?<"), "u");
    const ours = c.op === "full" ? () => re.fullMatch(c.input) : c.op === "find" ? () => re.find(c.input) : () => re.test(c.input);
    const v8 = c.op === "test" ? () => js.test(c.input) : () => js.exec(c.input);
    const oursNs = nsPerOp(ours);
    const v8Ns = nsPerOp(v8);
    let nativeText = "";
    if (native) {
      const n = new native(c.op === "full" ? `^(?:${c.pattern})$` : c.pattern, "u");
      nativeText = `, re2 (native) ${(nsPerOp(c.op === "test" ? () => n.test(c.input) : () => n.exec(c.input)) / 1000).toFixed(2)} µs`;
    }
    row(c.name, `re2js ${(oursNs / 1000).toFixed(2)} µs, V8 ${(v8Ns / 1000).toFixed(2)} µs (re2js/V8 ${(oursNs / v8Ns).toFixed(0)}x)${nativeText}`);
  }
  const hostile = "a".repeat(100_000) + "b";
  const start = process.hrtime.bigint();
  Regex.compile("(a+)+$").test(hostile);
  row("(a+)+$ on 100 KB of a then b", `re2js ${(Number(process.hrtime.bigint() - start) / 1e6).toFixed(1)} ms (V8: not measured, exponential)`);
  if (!native) row("native re2", "not installed (optional; npm install re2 builds it from source)");
}

main();
