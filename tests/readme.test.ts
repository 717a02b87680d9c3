import { expect } from "chai";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { EXTENSION_COMPATIBLE_RUNTIMES } from "../infra/extensionLayer";
import { alarmRows, alarmThresholdRows, extensionAlarmRows, extensionAlarmThresholdRows, extensionSettingsRows, extensionUnsupportedRows, infraSettingsRows, lokiAnswerRows, metadataRows, metricsRows, settingsRows, telemetryMetricsRows } from "../scripts/readme-tables";

const README = readFileSync(resolve(__dirname, "..", "README.md"), "utf8");

describe("README reference tables", () => {
  it("documents every environment variable with its default and accepted form, as the code defines them", () => {
    for (const row of settingsRows()) expect(README).to.include(row);
  });

  it("documents every setting of the Pulumi program as infra/settings.ts defines it", () => {
    for (const row of infraSettingsRows()) expect(README).to.include(row);
  });

  it("documents every structured-metadata field", () => {
    for (const row of metadataRows()) expect(README).to.include(row);
  });

  it("documents every metric of the shipper with its unit", () => {
    for (const row of metricsRows()) expect(README).to.include(row);
  });

  it("documents the telemetry extension's own metrics, and the shipper's whose meaning differs there", () => {
    for (const row of telemetryMetricsRows()) expect(README).to.include(row);
  });

  it("documents every setting of the telemetry extension, and the shipper settings it refuses", () => {
    for (const row of [...extensionSettingsRows(), ...extensionUnsupportedRows()]) expect(README).to.include(row);
  });

  it("documents what every answer of Loki's push endpoint does, as handler/loki/answers.ts defines it", () => {
    for (const row of lokiAnswerRows()) expect(README).to.include(row);
  });

  it("documents every alarm the program can create, and every threshold with its default, as infra/ defines them", () => {
    for (const row of [...alarmRows(), ...alarmThresholdRows()]) expect(README).to.include(row);
  });

  it("documents every alarm LokiExtension declares for a function running the extension, and its thresholds", () => {
    for (const row of [...extensionAlarmRows(), ...extensionAlarmThresholdRows()]) expect(README).to.include(row);
  });

  it("lists the runtimes the Pulumi program publishes the extension's layer for, in the CLI example and the packaging section", () => {
    expect(README).to.include(`--compatible-runtimes ${EXTENSION_COMPATIBLE_RUNTIMES.join(" ")}\n`);
    expect(README).to.include(`**Node.js functions** (${EXTENSION_COMPATIBLE_RUNTIMES.map((r) => `\`${r}\``).join(", ")}, any`);
  });

  it("keeps the two set-up commands", () => {
    expect(README).to.include("npm ci && npm run demo");
    expect(README).to.include("npm ci && npm test");
  });
});
