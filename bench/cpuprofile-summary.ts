/**
 * Sums a V8 .cpuprofile (node --cpu-prof, or bench/cloudwatch-profile.ts) per function: self time
 * (samples in the function itself) and inclusive time (samples with the function anywhere on the
 * stack, counted once per sample however deep it recurses), as shares of the profile:
 *   npx ts-node bench/cpuprofile-summary.ts cloudwatch.cpuprofile [rows, default 40]
 * Native code is named by what V8 knows of it: snappy's native compressor, for one, shows up as
 * DecompressorFinish or custom_gc.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function main(): void {
  const [file, rowsArg] = process.argv.slice(2);
  if (!file) throw new Error("usage: npx ts-node bench/cpuprofile-summary.ts FILE.cpuprofile [rows]");
  const rows = Number(rowsArg ?? 40);
  const { nodes, samples, timeDeltas } = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const nameOf = (id: number): string => {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url ? `${url.replace(/^.*\/(handler|bench|node_modules)\//, "$1/")}:${lineNumber + 1}` : "";
    return `${functionName || "(anonymous)"} ${where}`.trim();
  };
  // A sample's time is the delta to the next sample.
  const nodeTime = new Map<number, number>();
  for (let i = 0; i < samples.length; i++) nodeTime.set(samples[i], (nodeTime.get(samples[i]) ?? 0) + (timeDeltas[i + 1] ?? 0));
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const [id, time] of nodeTime) {
    total += time;
    self.set(nameOf(id), (self.get(nameOf(id)) ?? 0) + time);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = nameOf(at);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + time);
    }
  }
  const show = (title: string, times: Map<string, number>): void => {
    console.log(`\n${title}`);
    for (const [name, t] of [...times].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
      console.log(`${((100 * t) / total).toFixed(1).padStart(5)}% ${(t / 1000).toFixed(1).padStart(8)} ms  ${name}`);
    }
  };
  console.log(`${(total / 1000).toFixed(0)} ms sampled`);
  show("self time", self);
  show("inclusive time", inclusive);
}

main();
