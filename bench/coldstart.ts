/**
 * Cold start: time for a fresh Node process to `require` the built bundle and construct the
 * configuration (the first invocation's cold-start work), measured in child processes. Reported
 * next to the time a fresh process takes to require nothing, the machine's own floor.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { row } from "./support";

const BUNDLE = resolve(__dirname, "..", "dist", "handler", "index.js");
/** A first invocation that does the whole cold start but pushes nothing: CloudWatch's health check. */
const CONTROL_MESSAGE_EVENT = JSON.parse(readFileSync(resolve(__dirname, "..", "samples", "events", "cloudwatch-control-message.json"), "utf8")) as unknown;

function timeChild(script: string): number {
  const out = execFileSync(process.execPath, ["-e", script], {
    env: { ...process.env, WRITE_ADDRESS: "http://127.0.0.1:9/loki/api/v1/push", LOG_LEVEL: "error" },
  });
  // The last line is the figure; anything before it is the function's own log output.
  return Number(out.toString().trim().split("\n").pop());
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function main(): void {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first`);
  const requireAndConfigure = `
    const t0 = process.hrtime.bigint();
    const m = require(${JSON.stringify(BUNDLE)});
    m.handler(${JSON.stringify(CONTROL_MESSAGE_EVENT)}).finally(() => process.stdout.write("\\n" + String(Number(process.hrtime.bigint() - t0) / 1e6)));
  `;
  const floor = `const t0 = process.hrtime.bigint(); require("node:http"); process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));`;
  const runs = 7;
  const coldStart = median(Array.from({ length: runs }, () => timeChild(requireAndConfigure)));
  const baseline = median(Array.from({ length: runs }, () => timeChild(floor)));
  console.log("Cold start (require the bundle, then a first invocation: configuration, labels, client; median of 7 fresh processes)");
  row("bundle size", `${(statSync(BUNDLE).size / 1024).toFixed(0)} KB`);
  row("require bundle + first invocation", `${coldStart.toFixed(1)} ms`);
  row("require node:http (floor)", `${baseline.toFixed(1)} ms`);
}

main();
