/**
 * The function's own logs: JSON lines with a level and the request id, through Powertools
 * Logger (the ecosystem's standard, and what CloudWatch Logs Insights queries expect).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { LogLevel } from "./config";
import type { Log } from "./types";

const POWERTOOLS_LEVEL = { debug: "DEBUG", info: "INFO", warn: "WARN", error: "ERROR" } as const;

export interface FunctionLogger extends Log {
  /** Adds the Lambda request id and function name to every following line. */
  addContext(context: unknown): void;
}

export function createLogger(level: LogLevel): FunctionLogger {
  const logger = new Logger({ serviceName: "lambda-promtail", logLevel: POWERTOOLS_LEVEL[level] });
  return {
    debug: (message, attributes) => logger.debug(message, attributes ?? {}),
    info: (message, attributes) => logger.info(message, attributes ?? {}),
    warn: (message, attributes) => logger.warn(message, attributes ?? {}),
    error: (message, attributes) => logger.error(message, attributes ?? {}),
    addContext: (context) => logger.addContext(context as Parameters<Logger["addContext"]>[0]),
  };
}

/** Turns any thrown value into loggable fields without losing the cause chain. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const fields: Record<string, unknown> = { error: err.message, errorName: err.name };
  if (err.cause !== undefined) fields.cause = err.cause instanceof Error ? err.cause.message : String(err.cause);
  return fields;
}
