import { LambdaEmulator } from "/work/wt/t11-emu/tests/support/lambda-emulator";
import { LokiReceiver, countEntries } from "/work/wt/t11-ext/tests/support/loki-receiver";
(async () => {
  const loki = new LokiReceiver();
  const url = await loki.start();
  const t0 = Date.now();
  const lambda = await LambdaEmulator.start({ executable: "/work/wt/t11-ext/dist/extension-standalone/x86_64/extensions/lambda-promtail", env: { LOKI_WRITE_ADDRESS: url, LOKI_STRUCTURED_METADATA: "lambda_request_id" }, initTimeoutMs: 20000 });
  console.log("init ms", Date.now() - t0, lambda.startFailure, lambda.registration, JSON.stringify(lambda.subscription));
  for (let i = 0; i < 3; i++) {
    const r = await lambda.invoke({ logs: [`hello ${i}`, `world ${i}`], durationMs: 20 });
    console.log("invoke", r.postRuntimeMs, r.invocationMs, "received entries so far", countEntries(loki.acceptedPushes()).total);
  }
  const s = await lambda.shutdown();
  console.log("shutdown", s);
  for (const p of loki.acceptedPushes()) for (const st of p.streams) { console.log(st.labels); for (const e of st.entries) console.log("  ", e.sec, e.nsec, JSON.stringify(e.line), JSON.stringify(e.metadata)); }
  console.log("STDOUT", lambda.stdout().slice(-2000));
  console.log("STDERR", lambda.stderr().slice(-2000));
  await lambda.close(); await loki.stop();
})();
