/**
 * Part of `npm run build`: puts the native snappy binding for the Lambda's CPU next to the
 * bundle, in dist/handler/node_modules, where the bundle's `require` finds it (the bundle
 * keeps it external: a `.node` file cannot be inlined). Without it the function still works,
 * compressing with snappyjs, several times slower (handler/loki/snappy.ts).
 *
 * The architecture is the function's: LAMBDA_ARCHITECTURE=x86_64 (default) or arm64, as in
 * the stack's `architecture` setting. npm installs only the build machine's own binding, so
 * it is copied from node_modules when it is there and installed from the registry otherwise
 * (same version as the `snappy` package pins). The Lambda runtime is Linux with glibc.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { lambdaSnappyBinding } from "../handler/loki/snappy";

const ROOT = resolve(__dirname, "..");

function bindingPackage(architecture: string): string {
  if (architecture !== "x86_64" && architecture !== "arm64") {
    throw new Error(`LAMBDA_ARCHITECTURE: "${architecture}" is not supported. Accepted form: x86_64 or arm64`);
  }
  return lambdaSnappyBinding(architecture);
}

function pinnedVersion(pkg: string): string {
  const snappy = JSON.parse(readFileSync(join(ROOT, "node_modules", "snappy", "package.json"), "utf8")) as {
    optionalDependencies?: Record<string, string>;
  };
  const version = snappy.optionalDependencies?.[pkg];
  if (version === undefined) throw new Error(`the installed snappy package does not list ${pkg}`);
  return version;
}

/**
 * Copies (or fetches) `pkg` into `targetModules`; returns where it came from. `clean` removes
 * bindings staged there before (a binding of the other architecture must not ship with the
 * function); the extension layer stages both on purpose.
 */
export function stage(pkg: string, targetModules: string, clean = true): string {
  const target = join(targetModules, pkg);
  if (clean) rmSync(join(targetModules, "@napi-rs"), { recursive: true, force: true });
  const local = join(ROOT, "node_modules", pkg);
  if (existsSync(local)) {
    cpSync(local, target, { recursive: true });
    return "node_modules";
  }
  const spec = `${pkg}@${pinnedVersion(pkg)}`;
  const scratch = mkdtempSync(join(tmpdir(), "snappy-binding-"));
  try {
    // --force: npm refuses a package built for another CPU or OS without it.
    execFileSync("npm", ["install", "--no-save", "--no-package-lock", "--force", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", scratch, spec], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    cpSync(join(scratch, "node_modules", pkg), target, { recursive: true });
    return `the npm registry (${spec})`;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function main(): void {
  const architecture = process.env.LAMBDA_ARCHITECTURE || "x86_64";
  let pkg: string;
  try {
    pkg = bindingPackage(architecture);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const targetModules = join(ROOT, "dist", "handler", "node_modules");
  try {
    const from = stage(pkg, targetModules);
    console.log(`staged ${pkg} for ${architecture} from ${from}`);
  } catch (error) {
    // The bundle is usable without it; say loudly what the function will do instead.
    console.warn(`WARNING: could not stage ${pkg} (${(error as Error).message.split("\n")[0]}); ` +
      "the function will compress with snappyjs, several times slower. Packaging: see the README.");
  }
}

if (require.main === module) main();
