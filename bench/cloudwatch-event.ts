/**
 * The CloudWatch benchmark's input, built in memory and the same on every run: a subscription
 * event of about 1 MB of gzip holding realistic Lambda/application lines, and the stage list of
 * its stages run. Shared by bench/cloudwatch.ts and anyone profiling that path.
 */
import { gzipSync } from "node:zlib";
import { seededRandom } from "./support";

/** A realistic pipeline: parse the JSON lines, the log's own time, a level label, the request id as metadata, health checks dropped. */
export const BENCH_STAGES = [
  { json: { expressions: { level: "", request_id: "requestId", path: "", time: "timestamp" } } },
  { timestamp: { source: "time", format: "RFC3339Nano" } },
  { drop: { source: "path", expression: "^/healthz$", drop_counter_reason: "health_check" } },
  { labels: { level: "" } },
  { structured_metadata: { request_id: "" } },
];

/** Chunks compress better than the final JSON payload (escaping, ids): this lands near 1 MB of gzip. */
const TARGET_COMPRESSED_BYTES = 720 * 1024;

/** Realistic Lambda/application lines: request ids, JSON bodies, latencies; not one repeated string. */
export function makeLines(): { events: { id: string; timestamp: number; message: string }[]; textBytes: number } {
  const levels = ["info", "info", "info", "debug", "warn", "error"];
  const routes = ["/api/orders", "/api/cart", "/api/users/me", "/healthz", "/api/payments/authorize"];
  const events: { id: string; timestamp: number; message: string }[] = [];
  let textBytes = 0;
  let compressedEstimate = 0;
  let ts = 1763798400000;
  const rnd = seededRandom(42);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join("");
  while (compressedEstimate < TARGET_COMPRESSED_BYTES) {
    const chunk: string[] = [];
    for (let i = 0; i < 2000; i++) {
      ts += Math.floor(rnd() * 5);
      const reqId = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
      const message = i % 50 === 0
        ? `REPORT RequestId: ${reqId}\tDuration: ${(rnd() * 900).toFixed(2)} ms\tBilled Duration: ${Math.ceil(rnd() * 900)} ms\tMemory Size: 512 MB\tMax Memory Used: ${Math.floor(60 + rnd() * 200)} MB\t`
        : JSON.stringify({
          timestamp: new Date(ts).toISOString(), level: levels[Math.floor(rnd() * levels.length)], requestId: reqId,
          method: rnd() < 0.7 ? "GET" : "POST", path: routes[Math.floor(rnd() * routes.length)], status: rnd() < 0.95 ? 200 : 503,
          latencyMs: Math.floor(rnd() * 1200), userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
          msg: rnd() < 0.1 ? "upstream responded slowly, retrying with backoff" : "request completed",
        });
      chunk.push(message);
      events.push({ id: `${ts}${hex(10)}`, timestamp: ts, message });
      textBytes += Buffer.byteLength(message);
    }
    compressedEstimate += gzipSync(chunk.join("\n")).length;
  }
  return { events, textBytes };
}

/** The `awslogs` event of the benchmark, with its lines and their total UTF-8 size. */
export function makeCloudWatchEvent(): { event: { awslogs: { data: string } }; gz: Buffer; events: { id: string; timestamp: number; message: string }[]; textBytes: number } {
  const { events, textBytes } = makeLines();
  const payload = {
    messageType: "DATA_MESSAGE", owner: "123456789012", logGroup: "/aws/lambda/checkout-api",
    logStream: "2025/11/22/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0", subscriptionFilters: ["lambda-promtail"], logEvents: events,
  };
  const gz = gzipSync(JSON.stringify(payload));
  return { event: { awslogs: { data: gz.toString("base64") } }, gz, events, textBytes };
}
