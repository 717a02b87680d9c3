export { LambdaPromtail, LambdaPromtailArgs, COMPONENT_TYPE, ASYNC_INVOKE } from "./lambdaPromtail";
export { parseStackSettings, projectConfig, StackConfigError, StackConfigIssue, ShipperStackSettings, INFRA_SETTINGS, DEFAULTS } from "./settings";
export * as policies from "./policies";
