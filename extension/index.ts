/**
 * Entry point of the Lambda Telemetry API extension (the layer's `extensions/lambda-promtail`).
 *
 * It registers under the executable's file name, which Lambda requires: the launcher
 * (scripts/build-extension.ts) passes its own file name in LAMBDA_PROMTAIL_EXTENSION_NAME; a single
 * executable application is itself the executable.
 */
import { basename } from "node:path";
import { runExtension } from "./extension";


function isSingleExecutable(): boolean {
  try {
    // node:sea exists from Node 20; outside a single executable isSea() is false.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require("node:sea") as { isSea(): boolean }).isSea();
  } catch {
    return false;
  }
}

function extensionName(sea: boolean): string {
  const given = process.env.LAMBDA_PROMTAIL_EXTENSION_NAME;
  if (given) return given;
  return sea ? basename(process.execPath) : "lambda-promtail";
}

/**
 * In a single executable `require` loads built-in modules only: the native snappy binding is not
 * found (snappyjs compresses instead) and Node would warn about that attempt at every cold start.
 */
function quietSeaRequireWarning(): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (!warning.message.startsWith("Currently the require() provided to the main script")) console.error(String(warning));
  });
}

if (require.main === module || isSingleExecutable()) {
  const sea = isSingleExecutable();
  if (sea) quietSeaRequireWarning();
  runExtension({ env: process.env, name: extensionName(sea), expectSnappyjs: sea }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(JSON.stringify({ level: "ERROR", message: "the extension failed", error: (err as Error).message }));
      process.exit(1);
    },
  );
}
