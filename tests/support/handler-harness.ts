/**
 * Mocha set-up shared by the tests that run the real handler against the local Loki receiver:
 * the receiver runs for the describe block and is emptied before each test, and `configure()`
 * gives the function a clean environment (every setting unset except WRITE_ADDRESS, pointing at
 * the receiver, and what the test passes) with the warm container's state reset.
 */
import { SETTINGS } from "../../handler/config";
import { resetForTests } from "../../handler/index";
import { setEnv } from "./env";
import { LokiReceiver } from "./loki-receiver";

export interface HandlerHarness {
  readonly loki: LokiReceiver;
  /** A cold start with only these settings (WRITE_ADDRESS defaults to the receiver). */
  configure(env?: Record<string, string>): void;
}

/** Call inside a `describe`: registers the hooks and returns the harness. */
export function useHandlerWithLoki(): HandlerHarness {
  const loki = new LokiReceiver();
  let restoreEnv: () => void = () => undefined;
  const unset = (): Record<string, undefined> => Object.fromEntries(SETTINGS.map((s) => [s.env, undefined]));

  before(async () => {
    await loki.start();
  });
  after(async () => {
    restoreEnv();
    resetForTests();
    await loki.stop();
  });
  beforeEach(() => loki.reset());

  return {
    loki,
    configure(env = {}) {
      restoreEnv();
      restoreEnv = setEnv({ ...unset(), WRITE_ADDRESS: loki.url, ...env });
      resetForTests();
    },
  };
}
