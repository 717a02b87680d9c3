/**
 * The accepted form of LOKI_STAGE_CONFIGS, in a module of its own that imports nothing: the
 * settings table (handler/config.ts) needs it while the stage modules, which import
 * ConfigError from config.ts, may still be loading.
 */
export const STAGE_CONFIGS_FORM = 'a JSON array of stages, each an object with one stage name and its options, e.g. [{"json":{"expressions":{"level":"level"}}},{"labels":{"level":""}}]';
