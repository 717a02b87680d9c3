/**
 * Local replay of recorded events through the real handler, without AWS.
 *
 *   npm run replay -- <event.json> [more.json …]   run each recorded event through the handler
 *   npm run demo                                   replay every bundled sample in samples/events
 *
 * With WRITE_ADDRESS set, entries go to that Loki. Without it, a dry-run sink is started: an
 * in-process Loki push endpoint (the same receiver the tests use, which decodes with its own
 * snappy and protobuf readers) that prints streams, labels, timestamps and lines as Loki would
 * store them. Not part of the Lambda bundle.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { LokiReceiver } from "../tests/support/loki-receiver";

interface Options {
  files: string[];
}

function usage(): never {
  console.error("usage: npm run replay -- <event.json> [more.json …]\n       npm run demo");
  process.exit(2);
}

function parseArgs(argv: string[]): { command: string; options: Options } {
  const [command, ...rest] = argv;
  if (command !== "replay" && command !== "demo") usage();
  const files: string[] = [];
  for (const arg of rest) {
    if (arg === "--help" || arg === "-h") usage();
    if (arg.startsWith("--")) {
      console.error(`unknown option ${arg}`);
      usage();
    }
    files.push(arg);
  }
  if (command === "replay" && files.length === 0) usage();
  return { command, options: { files } };
}

function sampleEvents(): string[] {
  const dir = resolve(__dirname, "..", "samples", "events");
  return readdirSync(dir).filter((f) => f.endsWith(".json")).sort().map((f) => join(dir, f));
}

/** A fake Lambda context: a request id per event and a generous time budget. */
function contextFor(file: string, budgetMs = 60_000) {
  const end = Date.now() + budgetMs;
  return {
    awsRequestId: `replay-${file.split("/").pop()}`,
    functionName: "lambda-promtail-replay",
    getRemainingTimeInMillis: () => end - Date.now(),
  };
}

function formatTimestamp(sec: number, nsec: number): string {
  const iso = new Date(sec * 1000).toISOString().replace(".000Z", "");
  return `${iso}.${String(nsec).padStart(9, "0")}Z`;
}

function printReceived(receiver: LokiReceiver, fromPush: number): void {
  for (const push of receiver.received.slice(fromPush)) {
    for (const stream of push.streams) {
      console.log(`  stream ${stream.labels}`);
      for (const e of stream.entries) {
        const meta = e.metadata && Object.keys(e.metadata).length > 0 ? `  ${JSON.stringify(e.metadata)}` : "";
        console.log(`    ${formatTimestamp(e.sec, e.nsec)}  ${JSON.stringify(e.line)}${meta}`);
      }
    }
  }
}

async function main(): Promise<void> {
  const { command, options } = parseArgs(process.argv.slice(2));
  const files = command === "demo" ? sampleEvents() : options.files.map((f) => resolve(f));

  let receiver: LokiReceiver | undefined;
  if (!process.env.WRITE_ADDRESS) {
    receiver = new LokiReceiver();
    process.env.WRITE_ADDRESS = await receiver.start();
    console.log(`WRITE_ADDRESS not set: using the dry-run sink at ${process.env.WRITE_ADDRESS}`);
  }
  // Imported after WRITE_ADDRESS is settled: the handler reads its environment at cold start.
  const { handler } = await import("./index");

  let failures = 0;
  for (const file of files) {
    console.log(`\n== ${file}`);
    const before = receiver?.received.length ?? 0;
    try {
      const event: unknown = JSON.parse(readFileSync(file, "utf8"));
      const result = await handler(event, contextFor(file));
      if (receiver) printReceived(receiver, before);
      if (result && result.batchItemFailures.length > 0) {
        failures++;
        console.log(`  batchItemFailures: ${JSON.stringify(result.batchItemFailures)}`);
      }
    } catch (err) {
      failures++;
      console.log(`  invocation failed: ${(err as Error).message}`);
    }
  }

  if (receiver) {
    const entries = receiver.received.reduce((n, p) => n + p.streams.reduce((m, s) => m + s.entries.length, 0), 0);
    const streams = new Set(receiver.received.flatMap((p) => p.streams.map((s) => s.labels))).size;
    console.log(`\nsummary: ${files.length} events, ${receiver.received.length} pushes, ${streams} streams, ${entries} entries, ${failures} failed`);
    await receiver.stop();
  }
  process.exitCode = failures > 0 && command === "replay" ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
