/**
 * The project's modules import each other without cycles at run time. In a cycle, the module
 * loaded first runs its imports before it has defined its own exports, so whoever reaches it
 * again through the cycle sees it half-defined: handler/config.ts imported the stage registry,
 * whose stage modules imported ConfigError from config.ts, and a program that loaded a stage
 * module first got a registry without that stage ("json: is not a known stage").
 * Imports of types only are erased by the compiler and cannot form such a cycle.
 */
import { expect } from "chai";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import * as ts from "typescript";

const ROOT = resolve(__dirname, "..");

function typeScriptFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return typeScriptFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
  });
}

/** An import or re-export whose bindings are all types is erased, and does not load the module. */
function loadsAtRunTime(statement: ts.Statement): ts.Expression | undefined {
  if (ts.isImportDeclaration(statement)) {
    const clause = statement.importClause;
    if (clause?.isTypeOnly) return undefined;
    const named = clause?.namedBindings;
    const onlyTypes = clause !== undefined && clause.name === undefined && named !== undefined && ts.isNamedImports(named) &&
      named.elements.length > 0 && named.elements.every((element) => element.isTypeOnly);
    return onlyTypes ? undefined : statement.moduleSpecifier;
  }
  if (ts.isExportDeclaration(statement) && !statement.isTypeOnly) return statement.moduleSpecifier;
  return undefined;
}

/** The project's own modules `file` loads when it runs. */
function runTimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  return source.statements.flatMap((statement) => {
    const specifier = loadsAtRunTime(statement);
    if (specifier === undefined || !ts.isStringLiteral(specifier) || !specifier.text.startsWith(".")) return [];
    const base = resolve(dirname(file), specifier.text);
    return [`${base}.ts`, join(base, "index.ts")].filter(existsSync).slice(0, 1);
  });
}

/** Every import cycle depth-first search meets, as the list of modules around it. */
function importCycles(files: readonly string[]): string[][] {
  const imports = new Map(files.map((file) => [file, runTimeImports(file)]));
  const visiting = new Set<string>();
  const done = new Set<string>();
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string): void => {
    visiting.add(file);
    path.push(file);
    for (const next of imports.get(file) ?? []) {
      if (visiting.has(next)) cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!done.has(next)) visit(next);
    }
    path.pop();
    visiting.delete(file);
    done.add(file);
  };
  for (const file of files) if (!done.has(file)) visit(file);
  return cycles.map((cycle) => cycle.map((file) => relative(ROOT, file)));
}

describe("module imports", () => {
  it("form no cycle at run time in the handler, the extension, the Pulumi program or the policy pack", () => {
    const files = ["handler", "extension", "infra", "policy"].flatMap((dir) => typeScriptFiles(join(ROOT, dir)));
    expect(files.length).to.be.greaterThan(100);
    expect(importCycles(files).map((cycle) => cycle.join(" -> "))).to.deep.equal([]);
  });

  it("let a stage module be loaded before the stage registry, which then still knows every stage", function () {
    this.timeout(60_000);
    const script = `
      require(${JSON.stringify(join(ROOT, "handler/stages/json"))});
      const { parseStageConfigs } = require(${JSON.stringify(join(ROOT, "handler/stages/index"))});
      parseStageConfigs('[{"json":{"expressions":{"level":""}}}]', "LOKI_STAGE_CONFIGS");
      process.stdout.write("parsed");
    `;
    const child = spawnSync(process.execPath, ["-r", "ts-node/register", "-e", script], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
      encoding: "utf8",
    });
    expect(child.stderr).to.equal("");
    expect(child.stdout).to.equal("parsed");
  });
});
