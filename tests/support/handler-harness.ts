/**
 * Mocha set-up shared by the tests that run the real handler against the local Loki receiver
 * (and, with the `s3` option, the local S3 server): the servers run for the describe block, the
 * receiver is emptied before each test, and `configure()` gives the function a clean environment
 * (every setting unset except WRITE_ADDRESS, pointing at the receiver, the S3 server's endpoint
 * and credentials, and what the test passes) with the warm container's state reset.
 */
import { SETTINGS } from "../../handler/config";
import { resetForTests } from "../../handler/index";
import { resetS3Clients } from "../../handler/sources/s3-object";
import { setEnv } from "./env";
import { LokiReceiver, type LokiReceiverOptions } from "./loki-receiver";
import { LocalS3 } from "./s3-server";

export interface HandlerHarness {
  readonly loki: LokiReceiver;
  /** The local S3 server, with the `s3` option (after the `before` hooks have run). */
  readonly s3: LocalS3;
  /** A cold start with only these settings (WRITE_ADDRESS defaults to the receiver); undefined unsets a variable. */
  configure(env?: Record<string, string | undefined>): void;
}

export interface HarnessOptions {
  /** Start the local S3 server with these buckets, and point the handler's S3 client at it. */
  s3?: { buckets: string[] };
  /** How the Loki receiver keeps or checks what it receives. */
  loki?: LokiReceiverOptions;
}

/** Call inside a `describe`: registers the hooks and returns the harness. */
export function useHandlerWithLoki(options: HarnessOptions = {}): HandlerHarness {
  const loki = new LokiReceiver(options.loki);
  let s3: LocalS3 | undefined;
  let restoreEnv: () => void = () => undefined;
  const unset = (): Record<string, undefined> => Object.fromEntries(SETTINGS.map((s) => [s.env, undefined]));

  before(async () => {
    await loki.start();
    if (options.s3) s3 = await LocalS3.start(options.s3.buckets);
  });
  after(async () => {
    restoreEnv();
    resetForTests();
    if (s3) {
      // The handler's S3 client keeps sockets to the server: let them go before it stops.
      resetS3Clients();
      await s3.stop();
    }
    await loki.stop();
  });
  beforeEach(() => loki.reset());

  return {
    loki,
    get s3(): LocalS3 {
      if (s3 === undefined) throw new Error(options.s3 ? "the local S3 server starts in a before hook" : "useHandlerWithLoki() was called without the s3 option");
      return s3;
    },
    configure(env = {}) {
      restoreEnv();
      restoreEnv = setEnv({ ...unset(), WRITE_ADDRESS: loki.url, ...s3?.env(), ...env });
      resetForTests();
    },
  };
}
