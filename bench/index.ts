/**
 * `npm run bench`: builds the bundle, then runs each benchmark in its own process so that
 * each peak-RSS figure belongs to one path only.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(__dirname, "..");
const BENCHMARKS = ["coldstart.ts", "cloudwatch.ts", "encode.ts", "regex.ts", "s3.ts", "s3-long-line.ts", "memory.ts", "extension.ts"];

function run(command: string, args: string[]): void {
  execFileSync(command, args, { cwd: ROOT, stdio: "inherit", env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } });
}

run("npm", ["run", "--silent", "build"]);
for (const file of BENCHMARKS) {
  const path = resolve(__dirname, file);
  console.log("");
  run(process.execPath, ["--expose-gc", "-r", "ts-node/register", path]);
}
