/**
 * Prints the README's reference tables from the code that defines them (function settings,
 * Pulumi program settings, structured-metadata fields), so the documentation cannot drift: tests/readme.test.ts checks
 * that the README contains exactly these rows. Run: npx ts-node scripts/readme-tables.ts
 */
import { SETTINGS } from "../handler/config";
import { METADATA_FIELDS } from "../handler/metadata";
import { INFRA_SETTINGS } from "../infra/settings";

const cell = (s: string) => s.replace(/\|/g, "\\|");

export function settingsRows(): string[] {
  return SETTINGS.map((s) => `| \`${s.env}\`${s.ours ? " (new)" : ""} | ${cell(s.defaultValue)} | ${cell(s.acceptedForm)} | ${cell(s.description)} |`);
}

export function infraSettingsRows(): string[] {
  return INFRA_SETTINGS.map((s) => `| \`${s.key}\` | ${cell(s.defaultValue)} | ${cell(s.acceptedForm)} | ${cell(s.description)} |`);
}

export function metadataRows(): string[] {
  return Object.entries(METADATA_FIELDS).map(([name, description]) => `| \`${name}\` | ${cell(description)} |`);
}

if (require.main === module) {
  console.log(settingsRows().join("\n"));
  console.log("");
  console.log(infraSettingsRows().join("\n"));
  console.log("");
  console.log(metadataRows().join("\n"));
}
