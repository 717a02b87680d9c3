/**
 * The extension's life: register, validate the settings, subscribe to the Telemetry API, then
 * loop on /event/next until SHUTDOWN.
 *
 *  INIT      register (INVOKE, SHUTDOWN; accountId) -> settings (a bad one: the validator's
 *            message in one error line, then idle until SHUTDOWN, so the function still runs) ->
 *            credentials (unreadable: the same) ->
 *            listener -> subscription (function + platform, extension by setting).
 *  INVOKE    end-of-invocation regime: wait for this request's platform.runtimeDone, push what is
 *            held (bounded by LOKI_FLUSH_TIMEOUT_MS and the invocation's deadline), then ask for the
 *            next event, so nothing waits in a frozen environment. Background regime (busy
 *            function, see policy.ts): ask for the next event at once and push every
 *            LOKI_FLUSH_INTERVAL_MS while the environment runs.
 *  SHUTDOWN  wait briefly for Lambda's last telemetry, push everything held before the deadline,
 *            report anything undelivered in one error line with counts, exit.
 * Metrics (LOKI_METRICS): one embedded-metric-format line on stdout after each flush that did
 * something, and one at SHUTDOWN (metrics.ts).
 */
import { ConfigError } from "../handler/config";
import { createLabelPipeline, type FinalLabels } from "../handler/labels/pipeline";
import { INVALID_TENANT, TENANT_LABEL } from "../handler/labels/tenant";
import { LokiClient, type LokiAuth } from "../handler/loki/client";
import { snappyCompressor } from "../handler/loki/snappy";
import { limitCountedLine } from "../handler/line-size";
import { createLogger, errorFields, type FunctionLogger } from "../handler/log";
import type { SecretFetcher } from "../handler/secrets";
import type { LogEntry } from "../handler/types";
import { countDrop, StageRunner } from "../handler/stages/runner";
import { USER_AGENT } from "../handler/version";
import { parseExtensionConfig, unknownPrefixedVariables, type ExtensionConfig } from "./config";
import { lokiAuth } from "./credentials";
import { LambdaApi, type Registration } from "./lambda-api";
import { startListener, type TelemetryListener } from "./listener";
import { ExtensionMetrics, type TelemetryTotals } from "./metrics";
import { baseLabels, functionNameOf } from "./labels";
import { FlushCutoff } from "./cutoff";
import { Outbox } from "./outbox";
import { FlushPolicy } from "./policy";
import { isTelemetryEvent, RecordConverter } from "./records";

/** Time kept before an invocation's deadline: the invocation must also complete after our push. */
export const DEADLINE_MARGIN_MS = 200;
/** Time kept before the SHUTDOWN deadline for exiting. */
export const SHUTDOWN_MARGIN_MS = 150;
/**
 * Longest an end-of-invocation push may hold the invocation while Loki failed the last flush
 * (an error status, a refused connection) or stored nothing in its time (it hangs): enough for
 * one attempt at a Loki that answers, not for
 * LOKI_FLUSH_TIMEOUT_MS of retries on every invocation for as long as Loki is down.
 */
export const FAILING_LOKI_FLUSH_MS = 250;

export interface RunOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** The executable's file name: the extension registers under it. */
  name: string;
  /** Reads credential ARNs (tests inject a stand-in). */
  fetchSecret?: SecretFetcher;
  /** Whether the native snappy binding may be missing without a warning (single executable). */
  expectSnappyjs?: boolean;
}

/** Counters reported in the SHUTDOWN summary line. */
interface Stats {
  invocations: number;
  /** Telemetry events of the shipped types received (lines, valid or not). */
  records: number;
  backgroundInvocations: number;
  invalidEvents: number;
  relabelDropped: number;
  /** Entries LOKI_STAGE_CONFIGS dropped, by reason. */
  stageDropped: Record<string, number>;
  lambdaDroppedRecords: number;
  lambdaDroppedBytes: number;
  /** Lines longer than LOKI_MAX_LINE_SIZE shipped truncated, left out (LOKI_MAX_LINE_SIZE_ACTION=drop), or split into consecutive entries (split). */
  truncatedLines: number;
  droppedLongLines: number;
  /** Entries still held when the SHUTDOWN deadline came. */
  lostAtShutdown: number;
  splitLines: number;
}

/** Waits for platform.runtimeDone of a request, which the listener may have seen already. */
class RuntimeDoneTracker {
  private readonly done = new Set<string>();
  private readonly waiters = new Map<string, () => void>();

  seen(requestId: string): void {
    const waiter = this.waiters.get(requestId);
    if (waiter) {
      this.waiters.delete(requestId);
      waiter();
      return;
    }
    this.done.add(requestId);
    if (this.done.size > 64) this.done.delete(this.done.values().next().value as string);
  }

  /** Resolves true when runtimeDone of `requestId` arrived, false at `untilMs` (epoch ms). */
  wait(requestId: string, untilMs: number): Promise<boolean> {
    if (this.done.delete(requestId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(requestId);
        resolve(false);
      }, Math.max(0, untilMs - Date.now()));
      this.waiters.set(requestId, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Prints a line before the logger exists (bad settings), in the logger's JSON shape. */
function printError(message: string, err: unknown): void {
  console.error(JSON.stringify({ level: "ERROR", message, service: "lambda-promtail-extension", ...errorFields(err) }));
}

/**
 * With settings it cannot run with, or credentials it cannot read, the extension says so once
 * (above) and stays out of the way until SHUTDOWN. Reporting an init error instead would fail
 * the function's own init, and so every invocation: a typo in a LOKI_ setting would take a
 * production function down, when only its copy of the logs to Loki is at stake (they still
 * reach CloudWatch Logs).
 */
async function idleUntilShutdown(api: LambdaApi): Promise<number> {
  for (;;) {
    let event;
    try {
      event = await api.next();
    } catch (err) {
      printError("the Extensions API failed; exiting", err);
      return 1;
    }
    if (event.eventType === "SHUTDOWN") return 0;
  }
}

/** Runs the extension until SHUTDOWN (or a fatal error); resolves to the process exit code. */
export async function runExtension(options: RunOptions): Promise<number> {
  const { env } = options;
  const runtimeApi = env.AWS_LAMBDA_RUNTIME_API;
  if (!runtimeApi) {
    printError("AWS_LAMBDA_RUNTIME_API is not set: the extension only runs inside Lambda (or its emulation)", new Error("no Runtime API"));
    return 1;
  }
  const api = new LambdaApi(runtimeApi);
  let registration: Registration;
  try {
    registration = await api.register(options.name);
  } catch (err) {
    printError("could not register with the Extensions API", err);
    api.close();
    return 1;
  }

  const initFailure = async (errorType: string, message: string, err: unknown): Promise<number> => {
    printError(message, err);
    try {
      await api.initError(errorType, err instanceof Error ? err : new Error(String(err)));
    } catch (reportErr) {
      printError("could not report the init error", reportErr);
    }
    api.close();
    return 1;
  };

  /** Settings or credentials it cannot ship with: says so once, then stays out of the function's way. */
  const standAside = async (message: string, err: unknown): Promise<number> => {
    printError(`${message}: the extension ships nothing from this execution environment, and the function runs as usual`, err);
    try {
      return await idleUntilShutdown(api);
    } finally {
      api.close();
    }
  };

  let config: ExtensionConfig;
  try {
    config = parseExtensionConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) return initFailure("Extension.InitFailed", "configuration error", err);
    return standAside("configuration error", err);
  }
  const log = createLogger(config.shipper.logLevel);
  const unknown = unknownPrefixedVariables(env);
  if (unknown.length > 0) log.warn("LOKI_ variables the extension does not know (typos?) are ignored", { variables: unknown });
  const snappy = snappyCompressor();
  if (snappy.nativeLoadError !== undefined && !options.expectSnappyjs) {
    log.warn("native snappy binding not found; compressing with snappyjs, several times slower", { error: snappy.nativeLoadError });
  }

  let auth: LokiAuth | undefined;
  try {
    auth = await lokiAuth(config.shipper, options.fetchSecret);
  } catch (err) {
    // A missing grant or a wrong ARN, like a bad setting, must not fail the function's init.
    return standAside("could not read the Loki credentials", err);
  }

  const extension = new TelemetryExtension(config, registration, env, log, auth);
  try {
    await extension.start(api);
  } catch (err) {
    await extension.close();
    return initFailure("Extension.TelemetrySubscriptionFailed", "could not start the telemetry listener or subscribe", err);
  }
  try {
    return await extension.loop(api);
  } finally {
    await extension.close();
    api.close();
  }
}

export class TelemetryExtension {
  private readonly client: LokiClient;
  private readonly outbox: Outbox;
  private readonly converter: RecordConverter;
  private readonly policy: FlushPolicy;
  private readonly runtimeDone = new RuntimeDoneTracker();
  private readonly streamLabels: string | undefined;
  private readonly stream: FinalLabels | null;
  private readonly stages: StageRunner | undefined;
  private readonly metrics: ExtensionMetrics | undefined;
  private metricsFailed = false;
  private listener: TelemetryListener | undefined;
  /** The flush running, and its cutoff (which a flush with a sooner deadline brings forward). */
  private flushing: { done: Promise<void>; cutoff: FlushCutoff } | undefined;
  private lastFlushStart = 0;
  private backgroundTimer: NodeJS.Timeout | undefined;
  private invocationDeadlineMs = 0;
  private failing = false;
  /** The last flush failed, or stored nothing before its time was up: the next end-of-invocation push is short. */
  private lokiFailed = false;
  readonly stats: Stats = {
    invocations: 0, records: 0, backgroundInvocations: 0, invalidEvents: 0, relabelDropped: 0, stageDropped: {},
    lambdaDroppedRecords: 0, lambdaDroppedBytes: 0, truncatedLines: 0, droppedLongLines: 0, splitLines: 0, lostAtShutdown: 0,
  };

  constructor(
    private readonly config: ExtensionConfig,
    registration: Registration,
    env: Readonly<Record<string, string | undefined>>,
    private readonly log: FunctionLogger,
    auth: LokiAuth | undefined,
  ) {
    const shipper = config.shipper;
    this.client = new LokiClient({
      url: shipper.writeAddress,
      auth,
      tenantId: shipper.tenantId,
      skipTlsVerify: shipper.skipTlsVerify,
      userAgent: `${USER_AGENT} (telemetry extension)`,
      log,
      // Our deadlines already keep their margin (DEADLINE_MARGIN_MS, SHUTDOWN_MARGIN_MS).
      safetyMarginMs: 0,
    });
    const labelsFor = createLabelPipeline({ extraLabels: shipper.extraLabels, dropLabels: shipper.dropLabels, relabelRules: shipper.relabelRules });
    // Every entry of this environment has the same base labels: the stream is known now.
    const final = labelsFor(baseLabels(config, registration, env));
    this.streamLabels = final?.key;
    this.stream = final;
    this.stages = shipper.stages === undefined ? undefined : new StageRunner(shipper.stages, log);
    if (final === null) log.warn("LOKI_RELABEL_CONFIGS / LOKI_DROP_LABELS leave no label: every line is dropped", {});
    else if (final.tenant === null && this.stages === undefined) log.warn("LOKI_RELABEL_CONFIGS set __tenant_id__ to a value Loki refuses as a tenant id: every line is dropped (invalid_tenant)", { tenant: final.labels[TENANT_LABEL].slice(0, 200) });
    this.outbox = new Outbox(config.maxHeldBytes);
    if (shipper.metrics) {
      this.metrics = new ExtensionMetrics({ namespace: shipper.metricsNamespace, functionName: functionNameOf(registration, env) || "lambda-promtail-extension" });
    }
    this.policy = new FlushPolicy({ strategy: config.flushStrategy, busyRate: config.busyRate });
    this.converter = new RecordConverter({
      shipTypes: config.shipTypes,
      metadata: shipper.structuredMetadata,
      signals: {
        onRuntimeDone: (requestId) => this.runtimeDone.seen(requestId),
        onLogsDropped: (records, bytes, reason) => {
          this.stats.lambdaDroppedRecords += records;
          this.stats.lambdaDroppedBytes += bytes;
          this.log.warn("Lambda dropped telemetry before it reached the extension", { droppedRecords: records, droppedBytes: bytes, reason });
        },
      },
    });
  }

  /** LOKI_STAGE_CONFIGS, as the shipper runs them: the entry may change stream or be dropped. */
  private addStaged(stream: FinalLabels, stages: StageRunner, entry: Parameters<StageRunner["run"]>[1]): void {
    const staged = stages.run(stream, entry);
    if ("drop" in staged) countDrop(this.stats.stageDropped, staged.drop);
    else this.hold(staged.key, staged.entry, staged.tenant);
  }

  /**
   * Adds an entry to the outbox, cut as the shipper's pipeline cuts: the function may log a line
   * Loki refuses (400). `tenant`: its `__tenant_id__` (undefined: LOKI_TENANT_ID; null: no tenant
   * id Loki accepts, so the entry is dropped rather than sent to another tenant).
   */
  private hold(key: string, entry: LogEntry, tenant?: string | null): void {
    if (tenant === null) {
      countDrop(this.stats.stageDropped, INVALID_TENANT);
      return;
    }
    const line = limitCountedLine(entry.line, this.config.shipper.maxLineSize, this.config.shipper.maxLineSizeAction, this.stats);
    if (line === undefined) return;
    if (typeof line !== "string") {
      // Consecutive entries with the line's timestamp, stream and metadata, in order.
      for (const piece of line) this.outbox.add(key, { ...entry, line: piece }, tenant);
      return;
    }
    entry.line = line;
    this.outbox.add(key, entry, tenant);
  }

  /** Converts a POSTed batch: entries go to the outbox, invalid events are counted and logged once per batch. */
  onEvents(events: readonly unknown[]): void {
    let invalid = 0;
    let firstReason: string | undefined;
    for (const event of events) {
      // Our own metric lines come back as `extension` telemetry: shipping them would feed back.
      if (isTelemetryEvent(event) && event.type === "extension" && this.metrics?.isOwnLine(event.record)) continue;
      const converted = this.converter.convert(event);
      if (converted.kind !== "skip") this.stats.records++;
      if (converted.kind === "entry") {
        if (this.streamLabels === undefined || this.stream === null) this.stats.relabelDropped++;
        else if (this.stages === undefined) this.hold(this.streamLabels, converted.entry, this.stream.tenant);
        else this.addStaged(this.stream, this.stages, converted.entry);
      } else if (converted.kind === "invalid") {
        invalid++;
        firstReason ??= converted.reason;
      }
    }
    // Loud: half the memory bound is used. Push now, whatever the regime: waiting for the interval
    // (busy) or for the end of the invocation (a long invocation logging more than
    // LOKI_MAX_HELD_BYTES) would drop the oldest lines while Loki could take them. Only while an
    // invocation runs: its deadline bounds the push, and the environment is not frozen then.
    if (!this.flushing && this.outbox.heldBytes > this.config.maxHeldBytes / 2 && this.backgroundDeadline() > Date.now()) {
      void this.flush(this.backgroundDeadline());
    }
    if (invalid > 0) {
      this.stats.invalidEvents += invalid;
      this.log.warn("telemetry events that cannot be shipped were skipped", { invalid, events: events.length, reason: firstReason });
    }
  }

  async start(api: LambdaApi): Promise<void> {
    this.listener = await startListener({
      onEvents: (events) => this.onEvents(events),
      onMalformed: (reason) => this.log.error("malformed telemetry POST answered 400", { reason }),
    });
    const types = ["platform", "function", ...(this.config.shipTypes.has("extension") ? ["extension"] : [])];
    await api.subscribe({
      schemaVersion: "2022-12-13",
      destination: { protocol: "HTTP", URI: this.listener.uri },
      types,
      buffering: this.config.buffering,
    });
    this.log.debug("subscribed to the Telemetry API", { uri: this.listener.uri, types });
  }

  /**
   * Pushes what is held before `endMs` (epoch ms), one flush at a time. A flush already running
   * (in the background) is waited for, but no longer than `endMs`: its cutoff is brought forward
   * to it (cutoff.ts). Then writes the metrics line of what happened since the previous one,
   * unless `publish` is false.
   */
  private async flush(endMs: number, publish = true): Promise<void> {
    while (this.flushing) {
      this.flushing.cutoff.advanceTo(endMs);
      await this.flushing.done;
    }
    if (this.outbox.waiting > 0 && endMs > Date.now()) await this.push(new FlushCutoff(endMs));
    if (publish) this.publishMetrics();
  }

  private async push(cutoff: FlushCutoff): Promise<void> {
    this.lastFlushStart = Date.now();
    const run = (async () => {
      const held = this.outbox.held;
      const result = await this.outbox.flush(this.client, cutoff, this.config.shipper.batchSize, this.config.shipper.pushConcurrency);
      // A Loki that failed, or stored nothing in the whole budget (it hangs, or a network drops
      // our packets), gets a short one next time. A slow Loki that stored some keeps the whole
      // budget: a short one would never let it catch up.
      this.lokiFailed = result.outcome === "failed" || (result.outcome === "out-of-time" && result.delivered === 0);
      if (result.outcome === "ok") {
        if (this.failing) this.log.info("Loki reachable again: held lines delivered", { delivered: result.delivered });
        this.failing = false;
      } else {
        this.failing = true;
        // A refusal (credentials, tenant, address) stores nothing until someone fixes a setting:
        // an error, as in the shipper; a Loki down or slow heals on its own.
        const level = result.refused === true ? "error" : "warn";
        this.log[level]("lines kept for a later push", { outcome: result.outcome, held: this.outbox.held, heldBefore: held, reason: result.message });
      }
    })();
    this.flushing = { done: run, cutoff };
    try {
      await run;
    } finally {
      cutoff.dispose();
      this.flushing = undefined;
    }
  }

  /** The running totals the metrics lines are differences of. */
  private totals(): TelemetryTotals {
    const outbox = this.outbox.counters;
    const stats = this.stats;
    return {
      records: stats.records, entries: stats.records, failedRecords: stats.invalidEvents + outbox.failedEntries,
      bytes: outbox.deliveredBytes, streams: 0, pushes: outbox.pushes, retries: outbox.retries, splits: outbox.splits,
      dropped: stats.relabelDropped, stageDropped: stats.stageDropped, truncatedLines: stats.truncatedLines, droppedLongLines: stats.droppedLongLines, splitLines: stats.splitLines,
      rejected: outbox.rejected, shipped: outbox.delivered, lostPastMemoryBound: outbox.droppedEntries, lostAtShutdown: stats.lostAtShutdown,
      lambdaDroppedRecords: stats.lambdaDroppedRecords, lambdaDroppedBytes: stats.lambdaDroppedBytes,
    };
  }

  /** Writes the metrics line (LOKI_METRICS); a failure to write it never stops shipping. */
  private publishMetrics(): void {
    if (this.metrics === undefined) return;
    try {
      this.metrics.publish(this.totals(), this.outbox.takeLag());
    } catch (err) {
      if (!this.metricsFailed) this.log.warn("could not write the metrics line", errorFields(err));
      this.metricsFailed = true;
    }
  }

  private startBackgroundTimer(): void {
    if (this.backgroundTimer) return;
    this.backgroundTimer = setInterval(() => {
      if (this.outbox.waiting === 0 || this.flushing) return;
      void this.flush(this.backgroundDeadline());
    }, this.config.flushIntervalMs);
  }

  private stopBackgroundTimer(): void {
    if (this.backgroundTimer) clearInterval(this.backgroundTimer);
    this.backgroundTimer = undefined;
  }

  /** When a background flush must end: LOKI_FLUSH_TIMEOUT_MS from now, and before the invocation's deadline. */
  private backgroundDeadline(): number {
    return Math.min(this.invocationDeadlineMs - DEADLINE_MARGIN_MS, Date.now() + this.config.flushTimeoutMs);
  }

  async loop(api: LambdaApi): Promise<number> {
    for (;;) {
      let event;
      try {
        event = await api.next();
      } catch (err) {
        this.log.error("the Extensions API failed; exiting", errorFields(err));
        await api.exitError("Extension.EventNextFailed", err as Error).catch(() => undefined);
        return 1;
      }
      if (event.eventType === "SHUTDOWN") {
        await this.shutdown(event.deadlineMs, event.shutdownReason);
        return 0;
      }
      this.stats.invocations++;
      this.invocationDeadlineMs = event.deadlineMs;
      const regime = this.policy.onInvoke(Date.now());
      if (regime === "background") {
        this.stats.backgroundInvocations++;
        this.startBackgroundTimer();
        if (this.outbox.waiting > 0 && !this.flushing && Date.now() - this.lastFlushStart >= this.config.flushIntervalMs) {
          void this.flush(this.backgroundDeadline());
        }
        continue;
      }
      this.stopBackgroundTimer();
      const limit = event.deadlineMs - DEADLINE_MARGIN_MS;
      await this.runtimeDone.wait(event.requestId, limit);
      // Loki down: one short attempt per invocation, not LOKI_FLUSH_TIMEOUT_MS added to every one.
      const budget = this.lokiFailed ? Math.min(FAILING_LOKI_FLUSH_MS, this.config.flushTimeoutMs) : this.config.flushTimeoutMs;
      await this.flush(Math.min(limit, Date.now() + budget));
    }
  }

  private async shutdown(deadlineMs: number, reason: string | undefined): Promise<void> {
    this.stopBackgroundTimer();
    const end = deadlineMs - SHUTDOWN_MARGIN_MS;
    // Lambda delivers what it still buffers right after SHUTDOWN: wait until the listener has
    // been quiet for one buffering timeout, using at most a quarter of the time left.
    const quietMs = this.config.buffering.timeoutMs + 50;
    const shutdownAt = Date.now();
    const waitUntil = shutdownAt + Math.max(0, (end - shutdownAt) / 4);
    while (Date.now() < waitUntil && Date.now() - Math.max(shutdownAt, this.listener?.lastPostAt ?? 0) < quietMs) await sleep(10);
    await this.flush(end, false);
    this.stats.lostAtShutdown = this.outbox.held;
    this.publishMetrics();
    const counters = this.outbox.counters;
    const summary = {
      shutdownReason: reason,
      invocations: this.stats.invocations,
      backgroundInvocations: this.stats.backgroundInvocations,
      telemetryPosts: this.listener?.counters.posts ?? 0,
      telemetryEvents: this.listener?.counters.events ?? 0,
      malformedPosts: this.listener?.counters.malformedPosts ?? 0,
      invalidEvents: this.stats.invalidEvents,
      relabelDropped: this.stats.relabelDropped,
      stageDropped: this.stats.stageDropped,
      truncatedLines: this.stats.truncatedLines,
      droppedLongLines: this.stats.droppedLongLines,
      splitLines: this.stats.splitLines,
      delivered: counters.delivered,
      rejected: counters.rejected,
      pushes: counters.pushes,
      retries: counters.retries,
      droppedPastBound: counters.droppedEntries,
      lambdaDroppedRecords: this.stats.lambdaDroppedRecords,
    };
    this.log.info("extension summary", summary);
    const undelivered = this.outbox.held;
    if (undelivered > 0 || counters.droppedEntries > 0) {
      this.log.error("lines that never reached Loki", {
        undeliveredAtShutdown: undelivered,
        undeliveredBytes: this.outbox.heldBytes,
        droppedPastMemoryBound: counters.droppedEntries,
        droppedBytes: counters.droppedBytes,
        maxHeldBytes: this.config.maxHeldBytes,
      });
    }
  }

  async close(): Promise<void> {
    this.stopBackgroundTimer();
    this.client.close();
    await this.listener?.close();
  }
}
