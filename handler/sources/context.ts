import type { ShipperConfig } from "../config";
import type { InvocationDeadline } from "../deadline";
import type { LogGroupTagLabeler } from "../tags";
import type { Log, SourceRecord, SourceTally } from "../types";

/** What a source adapter may use: the validated configuration and the logger. */
export interface SourceContext {
  config: ShipperConfig;
  log: Log;
  /** The invocation's deadline: every read and lookup on the network is bounded by it. */
  deadline: InvocationDeadline;
  /** Present when TAG_LABELS is set: log-group tags as labels, cached across invocations. */
  tags?: LogGroupTagLabeler;
  /** Counters for the invocation summary; absent where nobody reads them (replay, benchmarks). */
  tally?: SourceTally;
}

/**
 * A source adapter turns one Lambda event of its kind into records. It must not read or
 * decode anything eagerly: a record's `groups()` does the work, so a bad record fails alone.
 */
export type SourceAdapter<E> = (event: E, ctx: SourceContext) => SourceRecord[];
