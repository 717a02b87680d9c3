/**
 * Labels from AWS resource tags: a log group's tags, looked up once per group per TTL with
 * ListTagsForResource and turned into labels by TAG_LABELS. Lookups are cached in memory in a
 * warm container, concurrent lookups of one group share one request, and a failed lookup
 * never fails or drops logs: the entries ship without tag labels and one warning per group per
 * TTL says why.
 */
import type { TagLabelRule } from "./config";
import { sanitizeLabelName } from "./labels/names";
import { errorFields } from "./log";
import type { Labels, Log } from "./types";

/** Reads the tags of one resource, by ARN. */
export type TagFetcher = (resourceArn: string, region: string) => Promise<Record<string, string>>;

export interface TagLabelerOptions {
  rules: readonly TagLabelRule[];
  prefix: string;
  ttlMs: number;
  fetch: TagFetcher;
  log: Log;
  /** Bound on cached log groups; the oldest is evicted first. */
  maxEntries?: number;
  now?: () => number;
}

interface CacheEntry {
  expires: number;
  labels: Promise<Labels>;
}

export class LogGroupTagLabeler {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly opts: TagLabelerOptions) {
    this.maxEntries = opts.maxEntries ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** The tag labels of a log group, from the cache when fresh. Never rejects. */
  labelsFor(logGroup: string, region: string, account: string): Promise<Labels> {
    const arn = logGroupArn(logGroup, region, account);
    const now = this.now();
    const cached = this.cache.get(arn);
    if (cached && cached.expires > now) return cached.labels;
    if (cached) this.cache.delete(arn);

    const labels = this.lookup(arn, region);
    this.cache.set(arn, { expires: now + this.opts.ttlMs, labels });
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
    return labels;
  }

  private async lookup(arn: string, region: string): Promise<Labels> {
    try {
      return tagsToLabels(await this.opts.fetch(arn, region), this.opts.rules, this.opts.prefix);
    } catch (err) {
      // Cached like a success, so this warning appears once per log group per TTL.
      this.opts.log.warn("log group tags unavailable; shipping without tag labels", {
        logGroupArn: arn, ttlSeconds: this.opts.ttlMs / 1000, ...errorFields(err),
      });
      return {};
    }
  }
}

/** Applies TAG_LABELS: an exact key rule wins over a pattern; names are sanitized and prefixed. */
export function tagsToLabels(tags: Record<string, string>, rules: readonly TagLabelRule[], prefix: string): Labels {
  const labels: Labels = {};
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== "string") continue;
    let name: string | undefined;
    for (const rule of rules) {
      if (rule.kind === "key" && rule.key === key) {
        name = rule.label;
        break;
      }
      if (rule.kind === "pattern" && name === undefined && rule.pattern.test(key)) name = sanitizeLabelName(key);
    }
    if (name !== undefined) labels[prefix + name] = value;
  }
  return labels;
}

export function logGroupArn(logGroup: string, region: string, account: string): string {
  const partition = region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
  return `arn:${partition}:logs:${region}:${account}:log-group:${logGroup}`;
}

/**
 * ListTagsForResource through the real SDK client, one client per region, created on first
 * use. The endpoint follows the SDK's standard AWS_ENDPOINT_URL_CLOUDWATCH_LOGS variable.
 */
export function cloudWatchLogsTagFetcher(): TagFetcher {
  const clients = new Map<string, Promise<{ send: (tags: string) => Promise<Record<string, string>> }>>();
  const clientFor = (region: string) => {
    let client = clients.get(region);
    if (!client) {
      client = import("@aws-sdk/client-cloudwatch-logs").then(({ CloudWatchLogsClient, ListTagsForResourceCommand }) => {
        const sdk = new CloudWatchLogsClient({ region, maxAttempts: 2 });
        return { send: async (resourceArn: string) => (await sdk.send(new ListTagsForResourceCommand({ resourceArn }))).tags ?? {} };
      });
      clients.set(region, client);
    }
    return client;
  };
  return async (resourceArn, region) => (await clientFor(region)).send(resourceArn);
}
