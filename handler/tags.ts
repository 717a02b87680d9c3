/**
 * Labels from AWS resource tags: a log group's tags, looked up once per group per TTL with
 * ListTagsForResource and turned into labels by TAG_LABELS. Lookups are cached in memory in a
 * warm container, concurrent lookups of one group share one request, and a failed lookup
 * never fails or drops logs: the entries ship without tag labels and one warning per group per
 * TTL says why.
 *
 * A lookup is bounded (TAG_LOOKUP_CAP_MS, and a share of the invocation's time left): a CloudWatch
 * Logs endpoint that never answers (a VPC function without a route to it) costs that once per
 * region per TTL, after which the region's lookups are skipped until the TTL passes, so a batch of
 * many log groups does not wait once per group.
 */
import { boundedRequestHandler, sendWithin, SendOptions } from "./aws-http";
import type { TagLabelRule } from "./config";
import { DeadlineError, InvocationDeadline, WaitTimeoutError } from "./deadline";
import { sanitizeLabelName } from "./labels/names";
import { errorFields } from "./log";
import type { Labels, Log } from "./types";

/** Reads the tags of one resource, by ARN, passing `options` (abort signal, attempt timeout) to the SDK. */
export type TagLookup = (resourceArn: string, options: SendOptions) => Promise<Record<string, string>>;
/**
 * The lookup of a region. Getting it loads the SDK client (no network, and on a cold start it
 * can take longer than a lookup's bound, so it is not counted in it).
 */
export type TagFetcher = (region: string) => Promise<TagLookup>;

/**
 * A lookup, retries included, at most. ListTagsForResource answers in tens of ms in a region,
 * a fresh TLS connection included; half a second is ample and short enough that shipping never
 * waits long for labels it can do without.
 */
export const TAG_LOOKUP_CAP_MS = 500;

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
  /** Regions whose endpoint did not answer in time, until when their lookups are skipped. */
  private readonly unreachable = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly opts: TagLabelerOptions) {
    this.maxEntries = opts.maxEntries ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** The tag labels of a log group, from the cache when fresh, within `deadline`. Never rejects. */
  labelsFor(logGroup: string, region: string, account: string, deadline: InvocationDeadline): Promise<Labels> {
    const arn = logGroupArn(logGroup, region, account);
    const now = this.now();
    const cached = this.cache.get(arn);
    if (cached && cached.expires > now) return cached.labels;
    if (cached) this.cache.delete(arn);
    if ((this.unreachable.get(region) ?? 0) > now) return Promise.resolve({});

    const labels = this.lookup(arn, region, deadline);
    this.cache.set(arn, { expires: now + this.opts.ttlMs, labels });
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
    return labels;
  }

  private async lookup(arn: string, region: string, deadline: InvocationDeadline): Promise<Labels> {
    const limit = deadline.limit("CloudWatch Logs ListTagsForResource");
    try {
      const lookup = await this.opts.fetch(region);
      const tags = await sendWithin(limit, deadline.waitMs(TAG_LOOKUP_CAP_MS), (options) => lookup(arn, options));
      return tagsToLabels(tags, this.opts.rules, this.opts.prefix);
    } catch (err) {
      if (err instanceof DeadlineError) {
        // The invocation ran out, not the lookup: the next invocation asks again.
        this.cache.delete(arn);
        return {};
      }
      if (err instanceof WaitTimeoutError) this.unreachable.set(region, this.now() + this.opts.ttlMs);
      // Cached like a success, so this warning appears once per log group per TTL.
      this.opts.log.warn("log group tags unavailable; shipping without tag labels", {
        logGroupArn: arn, ttlSeconds: this.opts.ttlMs / 1000, ...errorFields(err),
      });
      return {};
    } finally {
      limit.clear();
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
  const lookups = new Map<string, Promise<TagLookup>>();
  return (region) => {
    let lookup = lookups.get(region);
    if (!lookup) {
      lookup = import("@aws-sdk/client-cloudwatch-logs").then(({ CloudWatchLogsClient, ListTagsForResourceCommand }): TagLookup => {
        const sdk = new CloudWatchLogsClient({ region, maxAttempts: 2, requestHandler: boundedRequestHandler(TAG_LOOKUP_CAP_MS) });
        return async (resourceArn, options) => (await sdk.send(new ListTagsForResourceCommand({ resourceArn }), options)).tags ?? {};
      });
      lookups.set(region, lookup);
    }
    return lookup;
  };
}
