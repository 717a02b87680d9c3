/**
 * Mocha set-up shared by the tests that run the built telemetry extension under the Lambda
 * emulator: the layer is built once per describe block (with the host architecture's snappy
 * binding only) into a temporary directory, the local Loki receiver runs for the block, and every
 * emulator a test launched is closed after it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildNodeLayer, EXTENSION_NAME } from "../../scripts/build-extension";
import { LambdaEmulator, type EmulatorOptions } from "./lambda-emulator";
import { LokiReceiver } from "./loki-receiver";

const HOST_ARCH = process.arch === "arm64" ? "arm64" : "x86_64";

export interface ExtensionHarness {
  readonly loki: LokiReceiver;
  /** Launches the built layer's executable under the emulator (closed after the test); its start may have failed. */
  launch(options?: Omit<EmulatorOptions, "executable">): Promise<LambdaEmulator>;
  /** The same, with LOKI_WRITE_ADDRESS pointing at the receiver; throws when the extension did not start. */
  start(options?: Omit<EmulatorOptions, "executable">): Promise<LambdaEmulator>;
}

/** Call inside a `describe`: registers the hooks and returns the harness. */
export function useExtensionHarness(): ExtensionHarness {
  const loki = new LokiReceiver();
  let layer = "";
  let executable = "";
  const launched: LambdaEmulator[] = [];

  before(async () => {
    layer = mkdtempSync(path.join(tmpdir(), "lambda-promtail-layer-"));
    buildNodeLayer({ outDir: layer, zipPath: null, snappyBindings: [HOST_ARCH] });
    executable = path.join(layer, "extensions", EXTENSION_NAME);
    await loki.start();
  });
  afterEach(async () => {
    await Promise.all(launched.splice(0).map((lambda) => lambda.close()));
    loki.reset();
  });
  after(async () => {
    await loki.stop();
    rmSync(layer, { recursive: true, force: true });
  });

  const launch = async (options: Omit<EmulatorOptions, "executable"> = {}) => {
    const lambda = await LambdaEmulator.start({ ...options, executable });
    launched.push(lambda);
    return lambda;
  };
  return {
    loki,
    launch,
    async start(options = {}) {
      const lambda = await launch({ ...options, env: { LOKI_WRITE_ADDRESS: loki.url, ...options.env } });
      if (lambda.startFailure) throw new Error(`${lambda.startFailure}\n${lambda.stderr()}\n${lambda.stdout()}`);
      return lambda;
    },
  };
}
