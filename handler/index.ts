/**
 * Lambda entry point: `handler(event, context)`.
 *
 * Cold start does only what every invocation needs: validate the environment, resolve secret
 * ARNs once, build the label pipeline and the keep-alive Loki client. Source adapters and AWS
 * SDK clients load on first use.
 */
import type { Context } from "aws-lambda";
import { parseShipperConfig, ShipperConfig } from "./config";
import { InvocationDeadline } from "./deadline";
import { createLabelPipeline } from "./labels/pipeline";
import { labelsMaySetTenant } from "./labels/tenant";
import { LokiClient } from "./loki/client";
import { snappyCompressor } from "./loki/snappy";
import { createLogger, errorFields, FunctionLogger } from "./log";
import { ShipperMetrics } from "./metrics";
import { ship, ShipStats } from "./pipeline";
import { StageRunner } from "./stages/runner";
import { resolveCredential } from "./secrets";
import { describeUnknownEvent, detectEvent } from "./sources/detect";
import { PARTIAL_FAILURE_KINDS, recordsOf } from "./sources/index";
import { cloudWatchLogsTagFetcher, LogGroupTagLabeler } from "./tags";
import { newSourceTally, SourceTally } from "./types";
import type { Log } from "./types";
import { USER_AGENT } from "./version";

export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

interface Runtime {
  config: ShipperConfig;
  log: FunctionLogger;
  client: LokiClient;
  labelsFor: ReturnType<typeof createLabelPipeline>;
  tags?: LogGroupTagLabeler;
  stages?: StageRunner;
  /** Whether a `__tenant_id__` label (relabeling or stages) may send entries to other tenants than TENANT_ID. */
  multiTenant: boolean;
  /** Absent when METRICS=false. */
  metrics?: ShipperMetrics;
}

/** Used when the function runs outside Lambda (replay, tests) and the context has no clock. */
const DEFAULT_BUDGET_MS = 60_000;

let runtime: Promise<Runtime> | undefined;

async function coldStart(env: NodeJS.ProcessEnv, deadline: InvocationDeadline): Promise<Runtime> {
  const config = parseShipperConfig(env);
  const log = createLogger(config.logLevel);
  warnOnSlowSnappy(log);
  const [username, password, bearerToken] = await Promise.all([
    resolveCredential("USERNAME", config.username, deadline),
    resolveCredential("PASSWORD", config.password, deadline),
    resolveCredential("BEARER_TOKEN", config.bearerToken, deadline),
  ]);
  const auth = username !== undefined && password !== undefined
    ? { username, password }
    : bearerToken !== undefined ? { bearerToken } : undefined;
  const client = new LokiClient({
    url: config.writeAddress,
    auth,
    tenantId: config.tenantId,
    skipTlsVerify: config.skipTlsVerify,
    userAgent: USER_AGENT,
    log,
    // The handler's deadline keeps the safety margin already: pushes get the time up to its cutoff.
    safetyMarginMs: 0,
  });
  const labelsFor = createLabelPipeline({
    extraLabels: config.extraLabels,
    dropLabels: config.dropLabels,
    relabelRules: config.relabelRules,
  });
  const tags = config.tagLabels.length === 0 ? undefined : new LogGroupTagLabeler({
    rules: config.tagLabels,
    prefix: config.tagLabelsPrefix,
    ttlMs: config.tagCacheTtlMs,
    fetch: cloudWatchLogsTagFetcher(),
    log,
  });
  const stages = config.stages === undefined ? undefined : new StageRunner(config.stages, log);
  const metrics = config.metrics
    ? new ShipperMetrics({ namespace: config.metricsNamespace, functionName: env.AWS_LAMBDA_FUNCTION_NAME || "lambda-promtail" })
    : undefined;
  const multiTenant = labelsMaySetTenant(config.extraLabels, config.relabelRules) || stages?.setsTenant === true;
  return { config, log, client, labelsFor, tags, stages, multiTenant, metrics };
}

/** Chooses the snappy compressor once, at cold start rather than at the first push, and says when it is the slow one. */
function warnOnSlowSnappy(log: Log): void {
  const snappy = snappyCompressor();
  if (snappy.nativeLoadError !== undefined) {
    log.warn("native snappy binding not found for this platform; compressing with snappyjs, several times slower (see README, Packaging)", {
      platform: `${process.platform}-${process.arch}`,
      error: snappy.nativeLoadError,
    });
  }
}

function getRuntime(deadline: InvocationDeadline): Promise<Runtime> {
  // A failed cold start is not cached: the error is reported on every invocation until fixed.
  runtime ??= coldStart(process.env, deadline).catch((err: unknown) => {
    runtime = undefined;
    console.error(JSON.stringify({ level: "ERROR", message: "configuration error", ...errorFields(err) }));
    throw err;
  });
  return runtime;
}

export async function handler(event: unknown, context?: Partial<Context>): Promise<BatchResponse | void> {
  const deadline = deadlineOf(context);
  try {
    const rt = await getRuntime(deadline);
    if (context?.awsRequestId) rt.log.addContext(context);
    return await handleEvent(event, rt, deadline, rt.log);
  } finally {
    deadline.dispose();
  }
}

async function handleEvent(event: unknown, rt: Runtime, deadline: InvocationDeadline, log: Log): Promise<BatchResponse | void> {
  const kind = detectEvent(event);
  if (!kind) {
    const message = `unknown event type: ${describeUnknownEvent(event)}; expected a CloudWatch Logs subscription, Kinesis, S3, SQS, SNS or EventBridge event`;
    log.error(message);
    throw new Error(message);
  }
  const tally = newSourceTally();
  const records = await recordsOf(kind, event, { config: rt.config, log, deadline, tags: rt.tags, tally });
  const { failed, stats } = await ship(records, {
    batchSize: rt.config.batchSize,
    pushConcurrency: rt.config.pushConcurrency,
    structuredMetadata: rt.config.structuredMetadata,
    printLogLine: rt.config.printLogLine,
    maxLineSize: rt.config.maxLineSize,
    maxLineSizeAction: rt.config.maxLineSizeAction,
    labelsFor: rt.labelsFor,
    stages: rt.stages,
    multiTenant: rt.multiTenant,
    pusher: rt.client,
    deadline: deadline.usable,
    log,
  });
  logSummary(log, kind, stats, tally);
  rt.metrics?.publish(kind, stats);

  if (PARTIAL_FAILURE_KINDS.has(kind)) {
    return {
      batchItemFailures: failed
        .map((i) => records[i].itemIdentifier)
        .filter((id): id is string => id !== undefined)
        .map((itemIdentifier) => ({ itemIdentifier })),
    };
  }
  if (failed.length > 0) {
    // No partial-failure protocol here (async invocation): fail the invocation so Lambda retries
    // it and then hands it to the on-failure destination. Entries already stored are deduplicated.
    throw new Error(`${failed.length} of ${records.length} ${kind} records failed: ${failed.map((i) => records[i].describe).slice(0, 5).join(", ")}`);
  }
}

function logSummary(log: Log, kind: string, stats: ShipStats, tally: SourceTally): void {
  const level = stats.failedRecords > 0 ? "warn" : "info";
  log[level]("invocation summary", { eventKind: kind, ...stats, ...tally });
}

function deadlineOf(context: Partial<Context> | undefined): InvocationDeadline {
  if (typeof context?.getRemainingTimeInMillis === "function") {
    return new InvocationDeadline(context.getRemainingTimeInMillis.bind(context));
  }
  return InvocationDeadline.in(DEFAULT_BUDGET_MS);
}

/** Forgets the cold-start state so tests can change the environment between cases. */
export function resetForTests(): void {
  const previous = runtime;
  runtime = undefined;
  void previous?.then((rt) => rt.client.close(), () => undefined);
}
