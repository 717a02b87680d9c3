/**
 * The pack as a whole: well-formed policies and config schemas, the defaults documented in
 * README.md, and a publishable package (its bundle needs nothing outside `policy/`).
 */
import { buildSync } from "esbuild";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { PACK_NAME, policies } from "../policy/policies";
import { fake, PackConfig, runPack } from "./support/policy-harness";

const POLICY_DIR = resolve(__dirname, "..", "policy");
const DOCS = readFileSync(resolve(__dirname, "..", "README.md"), "utf8");

describe("policy pack", () => {
  it("has uniquely named, described policies with an explicit level", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const p of policies) {
      expect(p.name, p.name).to.match(/^[a-z][a-z0-9-]+$/).and.not.equal("all");
      expect(p.description, p.name).to.be.a("string").and.not.equal("");
      expect(["advisory", "mandatory"], p.name).to.include(p.enforcementLevel);
      expect(p.configSchema?.properties ?? {}, p.name).to.not.have.property("enforcementLevel");
    }
  });

  it("behaves the same with its schema defaults given explicitly", async () => {
    const defaults: PackConfig = {};
    for (const p of policies) {
      const props = Object.entries(p.configSchema?.properties ?? {}).map(([k, s]) => [k, typeof s === "object" ? s.default : undefined]);
      if (props.length > 0) defaults[p.name] = Object.fromEntries(props);
    }
    const fn = fake.shipper("shipper", { KEEP_STREAM: "true", BATCH_SIZE: "100", WRITE_ADDRESS: "http://loki.example.com/x", EXTRA_LABELS: Array.from({ length: 12 }, (_, i) => `l${i},v${i}`).join(",") });
    const stack = [fn, fake.subscriptionFilter("f", "/aws/lambda/app", fn)];
    const implicit = await runPack(policies, stack);
    expect(implicit.violations.length).to.be.greaterThan(3);
    expect((await runPack(policies, stack, defaults)).violations).to.deep.equal(implicit.violations);
  });

  it("is documented: every policy with its default level and configuration properties", () => {
    for (const p of policies) {
      const row = DOCS.split("\n").find((line) => line.startsWith(`| \`${p.name}\` |`));
      expect(row, `README.md row for ${p.name}`).to.be.a("string");
      expect(row).to.contain(`| ${p.enforcementLevel} |`);
      for (const property of Object.keys(p.configSchema?.properties ?? {})) expect(row, `${p.name}.${property}`).to.contain(`\`${property}\``);
    }
    expect(DOCS).to.contain("pulumi preview --policy-pack policy").and.contain("pulumi policy publish");
  });

  it("is a publishable Node policy pack", () => {
    const manifest = parseYaml(readFileSync(resolve(POLICY_DIR, "PulumiPolicy.yaml"), "utf8")) as { runtime: string };
    expect(manifest.runtime).to.equal("nodejs");
    const pkg = JSON.parse(readFileSync(resolve(POLICY_DIR, "package.json"), "utf8")) as { version: string; files: string[]; scripts: Record<string, string>; dependencies: Record<string, string> };
    // PolicyPack reads the version from the pack's package.json.
    expect(pkg.version).to.match(/^\d+\.\d+\.\d+$/);
    expect(pkg.files).to.include.members(["index.js", "PulumiPolicy.yaml"]);
    expect(pkg.scripts.prepack).to.contain("bundle");
    expect(pkg.dependencies).to.have.property("@pulumi/policy");
    expect(PACK_NAME).to.match(/^[a-zA-Z0-9._-]+$/);
  });

  it("bundles into one file that needs only @pulumi/policy and Node's built-ins", () => {
    const result = buildSync({
      entryPoints: [resolve(POLICY_DIR, "index.ts")],
      bundle: true,
      platform: "node",
      target: "node20",
      format: "cjs",
      external: ["@pulumi/policy", "@pulumi/pulumi"],
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    expect([...new Set(imports)].filter((i) => !builtins.has(i))).to.deep.equal(["@pulumi/policy"]);
  });
});
