/**
 * The telemetry extension as a Lambda layer: one layer version per architecture, from the zip
 * `npm run build` writes. The layer is JavaScript run by the function runtime's own `node`, so
 * the same content serves both architectures and only Node.js runtimes (versions 20 and up, which
 * the bundle targets) can load it. One version per architecture anyway, so a function's layer ARN
 * states its architecture and a later native build can replace one without touching the other.
 */
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Architecture, ExtensionLayerSettings } from "./settings";
import { cutWithHash } from "./names";

export const EXTENSION_LAYER_TYPE = "lambda-promtail:index:ExtensionLayer";

/** Runtimes whose `node` runs the layer's entry point (the bundle targets Node.js 20+). */
export const EXTENSION_COMPATIBLE_RUNTIMES = ["nodejs20.x", "nodejs22.x", "nodejs24.x"];

export interface ExtensionLayerArgs {
  settings: ExtensionLayerSettings;
  /** Directory the zip path resolves against. Default: the working directory. */
  projectDir?: string;
}

/** Resolves the layer zip and fails early and clearly when it has not been built. */
export function resolveLayerZip(settings: ExtensionLayerSettings, projectDir: string): string {
  const zip = path.resolve(projectDir, settings.zipPath);
  if (!fs.existsSync(zip)) {
    throw new Error(`extensionLayer: the layer zip ${zip} does not exist. Run \`npm run build\` first, or set extensionLayerZip to the zip.`);
  }
  return zip;
}

export class ExtensionLayer extends pulumi.ComponentResource {
  /** Layer version ARNs by architecture. */
  readonly arns: pulumi.Output<Partial<Record<Architecture, string>>>;
  readonly layers: Partial<Record<Architecture, aws.lambda.LayerVersion>> = {};

  constructor(name: string, args: ExtensionLayerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(EXTENSION_LAYER_TYPE, name, {}, opts);
    const zip = resolveLayerZip(args.settings, args.projectDir ?? process.cwd());
    for (const architecture of args.settings.architectures) {
      this.layers[architecture] = new aws.lambda.LayerVersion(
        `${name}-${architecture.replace("_", "-")}`,
        {
          layerName: layerVersionName(name, pulumi.getStack(), architecture),
          description: `lambda-promtail telemetry extension: ships the function's logs to Loki (${architecture})`,
          code: new pulumi.asset.FileArchive(zip),
          compatibleArchitectures: [architecture],
          compatibleRuntimes: EXTENSION_COMPATIBLE_RUNTIMES,
          licenseInfo: "Apache-2.0",
        },
        { parent: this },
      );
    }
    const entries = Object.entries(this.layers).map(([a, layer]) => layer.arn.apply((arn) => [a, arn] as const));
    this.arns = pulumi.all(entries).apply((pairs) => Object.fromEntries(pairs));
    this.registerOutputs({ arns: this.arns });
  }
}

/** Lambda's rule for a layer name: letters, digits, '-' and '_', at most 140 characters. */
const LAYER_NAME_MAX = 140;

/**
 * `<component>-<stack>-<architecture>` as a valid layer name. A Pulumi stack name may hold
 * periods (`infra.dev`) and run to 100 characters, and the component name is the caller's: any
 * other character becomes '-', and a name too long is cut and ends in a hash of the whole, so
 * two stacks never share a layer. Left as it was, `pulumi up` failed on such a stack.
 */
export function layerVersionName(component: string, stack: string, architecture: string): string {
  const full = `${component}-${stack}-${architecture.replace("_", "-")}`;
  const cleaned = full.replace(/[^A-Za-z0-9_-]/g, "-");
  if (cleaned === full && cleaned.length <= LAYER_NAME_MAX) return cleaned;
  return cutWithHash(cleaned, LAYER_NAME_MAX, full, 8);
}
