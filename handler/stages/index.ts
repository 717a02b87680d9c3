/**
 * LOKI_STAGE_CONFIGS: the registry of pipeline stages and the compiler that validates a stage
 * list and turns it into a runner. The JSON is lambda-promtail's: an array whose elements each
 * map one stage name to its options, e.g.
 * `[{"json":{"expressions":{"level":"level"}}},{"labels":{"level":""}}]`.
 */
import { ConfigError } from "../config-error";
import { describeJson, suggest } from "../describe";
import { TENANT_LABEL } from "../labels/tenant";
import { decolorizeStage } from "./decolorize";
import { dropStage } from "./drop";
import { jsonStage } from "./json";
import { labelAllowStage, labelDropStage } from "./label-filter";
import { labelsStage, structuredMetadataStage } from "./labels";
import { limitStage } from "./limit";
import { logfmtStage } from "./logfmt";
import { luhnStage } from "./luhn";
import { match } from "./match";
import { outputStage } from "./output";
import { packStage } from "./pack";
import { regexStage } from "./regex";
import { replaceStage } from "./replace";
import { samplingStage } from "./sampling";
import { staticLabelsStage } from "./static-labels";
import { template } from "./template";
import { tenantStage } from "./tenant";
import { timestamp } from "./timestamp";
import { STAGE_CONFIGS_FORM } from "./forms";
import type { Stage, StageContext, StageEntry, StageFactory, StageResult } from "./types";

export { STAGE_CONFIGS_FORM } from "./forms";

export type { Stage, StageContext, StageEntry, StageFactory, StageResult } from "./types";

/** Every stage the shipper runs, by its Promtail name. */
export const STAGES: Readonly<Record<string, StageFactory>> = {
  json: jsonStage,
  logfmt: logfmtStage,
  regex: regexStage,
  replace: replaceStage,
  labels: labelsStage,
  labelallow: labelAllowStage,
  labeldrop: labelDropStage,
  static_labels: staticLabelsStage,
  structured_metadata: structuredMetadataStage,
  output: outputStage,
  drop: dropStage,
  decolorize: decolorizeStage,
  luhn: luhnStage,
  timestamp,
  template,
  match,
  tenant: tenantStage,
  pack: packStage,
  sampling: samplingStage,
  limit: limitStage,
};

/**
 * Promtail stages that have no sound meaning in a Lambda fed by AWS log events: why, and what
 * to use instead.
 */
export const REJECTED_STAGES: Readonly<Record<string, string>> = {
  docker: "it unwraps Docker's json-file log lines, which AWS log events never carry; use the json stage (with output) if your lines are JSON",
  cri: "it unwraps CRI (containerd) log lines, which AWS log events never carry; use the regex stage if your lines have that shape",
  multiline: "it joins lines across reads and waits for the next line, but an invocation ends with its event and a held line would be lost or delayed to the next invocation; have the producer log one event per entry (CloudWatch already delivers multi-line events whole)",
  geoip: "it needs a MaxMind database file on local disk, which the function does not ship; enrich IPs at query time or upstream",
  eventlogmessage: "it parses Windows Event Log messages, which AWS log events do not carry; use the regex or logfmt stage",
  metrics: "Promtail exposes the metrics on its own /metrics endpoint, which a Lambda does not have; count in Loki with LogQL (count_over_time, rate) or with recording rules instead",
};


/** A compiled stage list: runs every stage in order on one entry. */
export interface StagePipeline {
  readonly stages: readonly Stage[];
  /** Whether a stage (at any depth) may set `__tenant_id__`, the entries' tenant: `tenant`, or `labels` / `static_labels` naming it. */
  readonly setsTenant: boolean;
  /** Runs the stages; an answer other than undefined drops the entry (the reason is counted). */
  run(entry: StageEntry, ctx: StageContext): StageResult;
}

/**
 * Validates a stage list (the parsed JSON of LOKI_STAGE_CONFIGS, or a nested `stages` option)
 * and compiles it. `where` names it in errors (`LOKI_STAGE_CONFIGS`). Throws ConfigError.
 */
export function compileStages(json: unknown, where: string): StagePipeline {
  const stages = compileStageList(json, where);
  return { stages, setsTenant: setsTenantLabel(json), run: (entry, ctx) => runStages(stages, entry, ctx) };
}

/** Whether a compiled (so well-formed) stage list may write `__tenant_id__`, nested match stages included. */
function setsTenantLabel(json: unknown): boolean {
  return (json as Array<Record<string, unknown>>).some((item) => {
    if (Object.hasOwn(item, "tenant")) return true;
    for (const writer of ["labels", "static_labels"]) {
      const names = item[writer];
      if (typeof names === "object" && names !== null && Object.hasOwn(names, TENANT_LABEL)) return true;
    }
    const nested = (item.match as { stages?: unknown } | null | undefined)?.stages;
    return Array.isArray(nested) && setsTenantLabel(nested);
  });
}

export function runStages(stages: readonly Stage[], entry: StageEntry, ctx: StageContext): StageResult {
  for (let i = 0; i < stages.length; i++) {
    const result = stages[i].process(entry, ctx);
    if (result !== undefined) return result;
  }
  return undefined;
}

/** Parses the text of LOKI_STAGE_CONFIGS (empty: no stages). */
export function parseStageConfigs(raw: string, setting: string): StagePipeline | undefined {
  if (raw.trim() === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(setting, `is not valid JSON (${(err as Error).message})`, STAGE_CONFIGS_FORM);
  }
  const pipeline = compileStages(parsed, setting);
  return pipeline.stages.length === 0 ? undefined : pipeline;
}

function compileStageList(json: unknown, where: string): Stage[] {
  if (!Array.isArray(json)) throw new ConfigError(where, `must be a JSON array of stages, got ${describeJson(json)}`, STAGE_CONFIGS_FORM);
  return json.map((item, index) => compileStage(item, `${where}[${index}]`));
}

function compileStage(item: unknown, where: string): Stage {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new ConfigError(where, `must be an object with one stage name, got ${describeJson(item)}`, STAGE_CONFIGS_FORM);
  }
  const names = Object.keys(item);
  if (names.length !== 1) {
    throw new ConfigError(where, names.length === 0 ? "names no stage" : `names ${names.length} stages (${names.join(", ")}); each element holds exactly one`, STAGE_CONFIGS_FORM);
  }
  const name = names[0];
  const options = (item as Record<string, unknown>)[name];
  const factory = Object.hasOwn(STAGES, name) ? STAGES[name] : undefined;
  if (factory === undefined) {
    const rejected = Object.hasOwn(REJECTED_STAGES, name) ? REJECTED_STAGES[name] : undefined;
    if (rejected !== undefined) throw new ConfigError(`${where}.${name}`, `is not supported in this function: ${rejected}`, `one of the stages ${Object.keys(STAGES).join(", ")}`);
    const near = suggest(name, Object.keys(STAGES));
    throw new ConfigError(`${where}.${name}`, `is not a known stage${near ? ` (did you mean "${near}"?)` : ""}`, `one of the stages ${Object.keys(STAGES).join(", ")}`);
  }
  return factory(options, `${where}.${name}`, compileStageList);
}
