export { LambdaPromtail, LambdaPromtailArgs, COMPONENT_TYPE, ASYNC_INVOKE } from "./lambdaPromtail";
export { parseStackSettings, projectConfig, StackConfigError, StackConfigIssue, ShipperStackSettings, ExtensionLayerSettings, AlarmSettings, AlarmThresholds, ALARM_THRESHOLDS, DEFAULT_ALARM_THRESHOLDS, INFRA_SETTINGS, DEFAULTS } from "./settings";
export * as policies from "./policies";
export { ExtensionLayer, ExtensionLayerArgs, EXTENSION_COMPATIBLE_RUNTIMES } from "./extensionLayer";
export { LokiExtension, LokiExtensionArgs, validateExtensionSettings } from "./extension";
export { planAlarms, sourceKindsOf, AlarmSpec, AlarmTargets, AlarmDeployment, ALARM_PREFIX } from "./alarmPlan";
export { declareAlarms, alarmName } from "./alarms";
