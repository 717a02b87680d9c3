/**
 * Format id -> parser. The one place that lists every S3 log format the shipper reads.
 */
import { cloudFrontFormat } from "./cloudfront";
import { cloudTrailFormat } from "./cloudtrail";
import type { LogFormat } from "./format";
import { guardDutyFormat } from "./guardduty";
import type { FormatId } from "./keys";
import { lbFormat } from "./lb";
import { mskFormat } from "./msk";
import { s3AccessFormat } from "./s3-access";
import { vpcFlowFormat } from "./vpc-flow";
import { wafFormat } from "./waf";

export const FORMATS: Readonly<Record<FormatId, LogFormat>> = {
  lb: lbFormat,
  vpc_flow: vpcFlowFormat,
  cloudtrail: cloudTrailFormat,
  cloudfront: cloudFrontFormat,
  waf: wafFormat,
  guardduty: guardDutyFormat,
  s3_access: s3AccessFormat,
  msk: mskFormat,
};

export { classifyKey, notALogFile } from "./keys";
export type { FormatId, KeyInfo, LbVariant } from "./keys";
export type { LogFormat, ParseOptions } from "./format";
