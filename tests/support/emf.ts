/**
 * Reads embedded-metric-format log lines as CloudWatch Logs does, following the specification
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * the `_aws` metadata block with a millisecond Timestamp and CloudWatchMetrics directives, each
 * naming a Namespace, dimension sets that reference string members of the root object, and
 * metric definitions that reference number (or number array) members. Anything CloudWatch would
 * refuse throws, so a malformed line cannot pass a test.
 */

const UNITS = new Set([
  "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits",
  "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
  "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
  "Terabits/Second", "Count/Second", "None",
]);

/** One metric datum CloudWatch extracts: a metric of one directive under one of its dimension sets. */
export interface EmfDatum {
  namespace: string;
  name: string;
  unit: string;
  values: number[];
  dimensions: Record<string, string>;
}

export interface EmfRecord {
  timestamp: number;
  data: EmfDatum[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseEmf(line: string): EmfRecord {
  const root: unknown = JSON.parse(line);
  if (!isRecord(root) || !isRecord(root._aws)) throw new Error("not EMF: no _aws object");
  const { Timestamp, CloudWatchMetrics } = root._aws;
  if (typeof Timestamp !== "number" || !Number.isInteger(Timestamp) || Timestamp <= 0) throw new Error(`_aws.Timestamp ${String(Timestamp)} is not epoch milliseconds`);
  if (!Array.isArray(CloudWatchMetrics)) throw new Error("_aws.CloudWatchMetrics is not an array");
  const data: EmfDatum[] = [];
  for (const directive of CloudWatchMetrics as unknown[]) {
    if (!isRecord(directive)) throw new Error("a metric directive is not an object");
    const { Namespace, Dimensions, Metrics } = directive;
    if (typeof Namespace !== "string" || Namespace.length < 1 || Namespace.length > 255) throw new Error(`bad Namespace ${String(Namespace)}`);
    if (!Array.isArray(Dimensions) || !Array.isArray(Metrics)) throw new Error("Dimensions and Metrics must be arrays");
    if (Metrics.length > 100) throw new Error("more than 100 metrics in a directive");
    const sets = (Dimensions as unknown[]).map((set) => {
      if (!Array.isArray(set) || set.length > 30) throw new Error("a dimension set must be an array of at most 30 names");
      return Object.fromEntries(set.map((name: unknown) => {
        const value = typeof name === "string" ? root[name] : undefined;
        if (typeof value !== "string") throw new Error(`dimension ${String(name)} does not reference a string member`);
        return [name as string, value];
      }));
    });
    for (const metric of Metrics as unknown[]) {
      if (!isRecord(metric) || typeof metric.Name !== "string" || metric.Name === "") throw new Error("a metric definition has no Name");
      const unit = metric.Unit === undefined ? "None" : metric.Unit;
      if (typeof unit !== "string" || !UNITS.has(unit)) throw new Error(`metric ${metric.Name}: unit ${String(unit)} is not a CloudWatch unit`);
      const raw = root[metric.Name];
      const values = Array.isArray(raw) ? raw : [raw];
      if (values.length === 0 || values.length > 100 || !values.every((v) => typeof v === "number" && Number.isFinite(v))) {
        throw new Error(`metric ${metric.Name} does not reference a number or an array of up to 100 numbers`);
      }
      // A directive without dimension sets yields the metric without dimensions.
      for (const dimensions of sets.length === 0 ? [{}] : sets) data.push({ namespace: Namespace, name: metric.Name, unit, values: values as number[], dimensions });
    }
  }
  return { timestamp: Timestamp, data };
}

/** Runs `fn` and returns the EMF lines written to stdout meanwhile (the function's log, as CloudWatch Logs receives it), and what `fn` threw. */
export async function emfLinesOf(fn: () => Promise<unknown>): Promise<{ lines: string[]; error?: unknown }> {
  const lines: string[] = [];
  let error: unknown;
  const original = process.stdout.write;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === "string" && chunk.startsWith('{"_aws":')) lines.push(...chunk.split("\n").filter((l) => l !== ""));
    return (original as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    await fn().catch((err: unknown) => { error = err; });
  } finally {
    process.stdout.write = original;
  }
  return { lines, error };
}

/** The single value of metric `name` in a record, or undefined when the record does not carry it. */
export function valueOf(record: EmfRecord, name: string): number | undefined {
  const datum = record.data.find((d) => d.name === name);
  return datum?.values[0];
}
