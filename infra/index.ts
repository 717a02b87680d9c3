export { LambdaPromtail, LambdaPromtailArgs, COMPONENT_TYPE, ASYNC_INVOKE } from "./lambdaPromtail";
export { parseStackSettings, projectConfig, StackConfigError, StackConfigIssue, ShipperStackSettings, ExtensionLayerSettings, INFRA_SETTINGS, DEFAULTS } from "./settings";
export * as policies from "./policies";
export { ExtensionLayer, ExtensionLayerArgs, EXTENSION_COMPATIBLE_RUNTIMES } from "./extensionLayer";
export { LokiExtension, LokiExtensionArgs, validateExtensionSettings } from "./extension";
