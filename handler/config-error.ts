/**
 * The error of a bad setting, in a module of its own: the stage and label modules that config.ts
 * imports throw it too, and importing it from config.ts made an import cycle (a stage module
 * loaded first saw config.ts load the stage registry before the stage itself was defined).
 */

/** A bad setting. `setting` is the environment variable; the message names it and the accepted form. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    readonly problem: string,
    readonly acceptedForm: string,
  ) {
    super(`${setting}: ${problem}. Accepted form: ${acceptedForm}`);
    this.name = "ConfigError";
  }
}
