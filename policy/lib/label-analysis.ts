/**
 * What a shipper's entries will be labelled with: its configuration (parsed by the handler's
 * validator, or the telemetry extension's), the label sets its entries start with (the sources
 * the stack feeds the shipper; the extension's own labels for a function carrying it), and the
 * handler's label pipeline to run them through. Shared by the cardinality policies.
 */
import type { ShipperConfig } from "../../handler/config";
import { LabelPipeline, pipelineFor } from "../analysis/cardinality";
import { ALL_SOURCE_KINDS, LabelSetTemplate, labelSetTemplates, SourceRef, telemetryTemplate } from "../analysis/source-labels";
import { StagePlan } from "../analysis/stage-labels";
import { FunctionEnvironment, knownSetting, LABEL_SETTINGS, parseSettings, TELEMETRY_EXTENSION, variable } from "./environment";
import { knownString, Shipper, StackModel } from "./stack-model";
import { readString } from "./unknowns";

export interface ShipperLabels {
  config: ShipperConfig;
  templates: LabelSetTemplate[];
  pipeline: LabelPipeline;
  /** LOKI_STAGE_CONFIGS, when set: what the stages can do to the pipeline's labels. */
  stages?: StagePlan;
  /** True when the stack declares no source for the shipper, so every kind was evaluated. */
  allSourceKinds: boolean;
}

/**
 * The shipper's label context, or undefined when its settings are invalid (the
 * `valid-shipper-settings` policy reports that). Throws the engine's preview error when a
 * label setting is unknown.
 */
export function shipperLabels(shipper: Shipper, stack: StackModel): ShipperLabels | undefined {
  const parsed = parseSettings(shipper.env, LABEL_SETTINGS);
  if (!parsed.ok) return undefined;
  const { config } = parsed;
  // The validator accepted the stages: their JSON parses.
  const stages = config.stages ? { stages: new StagePlan(JSON.parse(knownSetting(shipper.env, "LOKI_STAGE_CONFIGS"))) } : {};
  if (shipper.env.kind === TELEMETRY_EXTENSION) {
    const template = telemetryTemplate({
      functionName: knownString(readString(shipper.resource.props, ["name"])),
      logGroupName: knownValue(shipper.env, "LOG_GROUP_NAME"),
      ...(shipper.account ? { account: shipper.account } : {}),
    });
    return { config, templates: [template], pipeline: pipelineFor(config), ...stages, allSourceKinds: false };
  }
  const discovered: SourceRef[] = stack.sourcesOf(shipper).map((s) => ({ kind: s.kind, ...(s.key ? { key: s.key } : {}) }));
  const sources = discovered.length > 0 ? discovered : ALL_SOURCE_KINDS;
  const opts = { keepStream: config.keepStream, tagLabels: config.tagLabels, tagLabelsPrefix: config.tagLabelsPrefix, ...(shipper.account ? { account: shipper.account } : {}) };
  return {
    config,
    templates: sources.flatMap((source) => labelSetTemplates(source, opts)),
    pipeline: pipelineFor(config),
    ...stages,
    allSourceKinds: discovered.length === 0,
  };
}

/** A variable's value when known and set (an unknown one leaves the example value in place). */
function knownValue(env: FunctionEnvironment, setting: string): string | undefined {
  const value = env.values[variable(env.kind, setting)]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** The sentence that says which sources were evaluated, for messages. */
export function sourcesNote(labels: ShipperLabels): string {
  return labels.allSourceKinds ? " (the stack declares no event source for this function, so every source kind was evaluated)" : "";
}
