/**
 * The `decolorize` stage: removes ANSI escape sequences (colours, cursor movement) from the
 * line, so `ERROR` in red is stored and searched as `ERROR`. No options.
 */
import { Regex } from "../regex";
import { StageOptions } from "./stage-options";
import type { Stage, StageFactory } from "./types";

/** ESC or CSI, optional intermediates, then a BEL-terminated OSC or a CSI/SGR sequence (the widely used ansi-regex shape). */
const ANSI = "[\\x{1b}\\x{9b}][\\[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[-a-zA-Z\\d\\/#&.:=?%@~_]*)*)?\\x{07})|(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PR-TZcf-nq-uy=><~]))";

let compiled: Regex | undefined;

export const decolorizeStage: StageFactory = (raw, where) => {
  new StageOptions(raw, where, []);
  const ansi = (compiled ??= Regex.compile(ANSI));
  return {
    name: "decolorize",
    process(entry) {
      const line = entry.line;
      // Most lines have no escape at all: skip the regex for them.
      if (line.indexOf("\x1b") < 0 && line.indexOf("\x9b") < 0) return undefined;
      entry.line = ansi.replaceAll(line, () => "");
      return undefined;
    },
  } satisfies Stage;
};
