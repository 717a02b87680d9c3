/**
 * Cold start: time for a fresh Node process to `require` the built bundle and construct the
 * configuration (the first invocation's cold-start work), measured in child processes. Reported
 * next to the time a fresh process takes to require nothing, the machine's own floor.
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { row } from "./support";

const BUNDLE = resolve(__dirname, "..", "dist", "handler", "index.js");

function timeChild(script: string): number {
  const out = execFileSync(process.execPath, ["-e", script], {
    env: { ...process.env, WRITE_ADDRESS: "http://127.0.0.1:9/loki/api/v1/push", LOG_LEVEL: "error" },
  });
  return Number(out.toString().trim());
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
    m.handler({ Records: [] }).catch(() => {}).finally(() => process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6)));
  `;
  const floor = `const t0 = process.hrtime.bigint(); require("node:http"); process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));`;
  const runs = 7;
  const coldStart = median(Array.from({ length: runs }, () => timeChild(requireAndConfigure)));
  const baseline = median(Array.from({ length: runs }, () => timeChild(floor)));
  console.log("Cold start (bundle require + configuration, median of 7 fresh processes)");
  row("bundle size", `${(statSync(BUNDLE).size / 1024).toFixed(0)} KB`);
  row("require bundle + cold-start config", `${coldStart.toFixed(1)} ms`);
  row("require node:http (floor)", `${baseline.toFixed(1)} ms`);
}

main();
