/**
 * Prints the README's reference tables from the code that defines them (function settings,
 * Pulumi program settings, structured-metadata fields, Loki's answers, the shipper's and the extension's metrics), so the documentation cannot drift: tests/readme.test.ts checks
 * that the README contains exactly these rows. Run: npx ts-node scripts/readme-tables.ts
 */
import { EXTENSION_SETTINGS, supportedShipperSettings, UNSUPPORTED_SETTINGS } from "../extension/config";
import { prefixedName, SETTINGS } from "../handler/config";
import { LOKI_ANSWERS } from "../handler/loki/answers";
import { METADATA_FIELDS } from "../handler/metadata";
import { SHIPPER_METRICS, TELEMETRY_METRICS } from "../handler/metrics";
import type { EventKind } from "../handler/types";
import { AlarmSpec, planAlarms } from "../infra/alarmPlan";
import { DEFAULT_EXTENSION_ALARM_THRESHOLDS, EXTENSION_ALARM_THRESHOLDS, planExtensionAlarms } from "../infra/alarmPlanExtension";
import { ALARM_THRESHOLDS, DEFAULT_ALARM_THRESHOLDS, INFRA_SETTINGS } from "../infra/settings";

const cell = (s: string) => s.replace(/\|/g, "\\|");

export function settingsRows(): string[] {
  return SETTINGS.map((s) => `| \`${s.env}\`${s.ours ? " (new)" : ""} | ${cell(s.defaultValue)} | ${cell(s.acceptedForm)} | ${cell(s.description)} |`);
}

/** The telemetry extension's settings: the shipper's under LOKI_, then its own. */
export function extensionSettingsRows(): string[] {
  return [...supportedShipperSettings(), ...EXTENSION_SETTINGS].map((s) => `| \`${s.env}\` | ${cell(s.defaultValue)} | ${cell(s.acceptedForm)} | ${cell(s.description)} |`);
}

/** Shipper settings the extension refuses, and why. */
export function extensionUnsupportedRows(): string[] {
  return Object.entries(UNSUPPORTED_SETTINGS).map(([name, reason]) => `| \`${prefixedName(name, "LOKI_")}\` | ${cell(reason)} |`);
}

export function infraSettingsRows(): string[] {
  return INFRA_SETTINGS.map((s) => `| \`${s.key}\` | ${cell(s.defaultValue)} | ${cell(s.acceptedForm)} | ${cell(s.description)} |`);
}

export function metricsRows(): string[] {
  return SHIPPER_METRICS.map((m) => `| \`${m.name}\` | ${m.unit} | ${cell(m.description)} |`);
}

/** The telemetry extension's metrics whose meaning differs from the shipper's, and its own. */
export function telemetryMetricsRows(): string[] {
  const shipper = new Map(SHIPPER_METRICS.map((m) => [m.name, m.description]));
  return TELEMETRY_METRICS.filter((m) => shipper.get(m.name) !== m.description).map((m) => `| \`${m.name}\` | ${m.unit} | ${cell(m.description)} |`);
}

export function metadataRows(): string[] {
  return Object.entries(METADATA_FIELDS).map(([name, description]) => `| \`${name}\` | ${cell(description)} |`);
}

export function lokiAnswerRows(): string[] {
  return LOKI_ANSWERS.map((a) => `| ${cell(a.statuses)} | ${cell(a.handling)} | ${a.fix === "" ? "" : cell(a.fix)} |`);
}

/** The alarms a deployment can get (README, Alarms), from the plan itself, names described in words. */
export function alarmRows(): string[] {
  const kind = "cloudwatch";
  const targets = { functionName: "the function's name", logGroupName: "", deadLetterQueue: { name: "the dead-letter queue's name", arn: "", url: "" } };
  const deployment = { sourceKinds: [kind] as EventKind[], kinesisStreams: ["any"], asyncSources: true, s3EventQueue: true, metricsNamespace: "metricsNamespace" };
  return planAlarms(deployment, DEFAULT_ALARM_THRESHOLDS, targets).map((a) => {
    const shipper = a.namespace === deployment.metricsNamespace;
    return alarmRow(a, shipper ? a.id.replace(`-${kind}`, "-<kind>") : a.id, (value) => (value === kind ? "the source kind" : value));
  });
}

/** The alarms LokiExtension declares for a function running the extension (README, Alarms of the extension). */
export function extensionAlarmRows(): string[] {
  const targets = { functionName: "the function's name", logGroupName: "" };
  return planExtensionAlarms("LOKI_METRICS_NAMESPACE", DEFAULT_EXTENSION_ALARM_THRESHOLDS, targets).map((a) => alarmRow(a, a.id, (value) => value));
}

function alarmRow(a: AlarmSpec<string, string>, id: string, dimension: (value: string) => string): string {
  const minutes = (seconds: number): string => (seconds === 60 ? "1 minute" : `${seconds / 60} minutes`);
  const dimensions = Object.entries(a.dimensions).map(([name, value]) => `\`${name}\`: ${dimension(value)}`).join(", ");
  const unit = a.thresholdKey.endsWith("Seconds") ? " (seconds)" : "";
  return `| \`${id}\` | \`${a.namespace}\` \`${a.metricName}\`, ${a.statistic} | ${dimensions} | ≥ \`${a.thresholdKey}\`${unit} in ${a.datapointsToAlarm} of ${a.evaluationPeriods} periods of ${minutes(a.period)} |`;
}

export function alarmThresholdRows(): string[] {
  return ALARM_THRESHOLDS.map((t) => `| \`${t.key}\` | ${t.defaultValue} | ${cell(t.description)} |`);
}

export function extensionAlarmThresholdRows(): string[] {
  return EXTENSION_ALARM_THRESHOLDS.map((t) => `| \`${t.key}\` | ${t.defaultValue} | ${cell(t.description)} |`);
}

if (require.main === module) {
  console.log(settingsRows().join("\n"));
  console.log("");
  console.log(infraSettingsRows().join("\n"));
  console.log("");
  console.log(metadataRows().join("\n"));
  console.log("");
  console.log(metricsRows().join("\n"));
  console.log("");
  console.log(telemetryMetricsRows().join("\n"));
  console.log("");
  console.log(extensionSettingsRows().join("\n"));
  console.log("");
  console.log(extensionUnsupportedRows().join("\n"));
  console.log("");
  console.log(lokiAnswerRows().join("\n"));
  console.log("");
  console.log(alarmRows().join("\n"));
  console.log("");
  console.log(alarmThresholdRows().join("\n"));
  console.log("");
  console.log(extensionAlarmRows().join("\n"));
  console.log("");
  console.log(extensionAlarmThresholdRows().join("\n"));
}
