/**
 * The per-entry fields a user may attach as Loki structured metadata through
 * STRUCTURED_METADATA. Keeping them out of the label set keeps stream cardinality low while
 * the value stays queryable (`| cloudwatch_log_stream="…"`).
 *
 * The registry is the single source of truth: the config validator rejects names not listed
 * here, the README's reference table lists them, and each source adapter fills the ones it knows.
 */
export const METADATA_FIELDS = {
  cloudwatch_log_stream: "CloudWatch log stream name (CloudWatch and Kinesis-carried CloudWatch payloads)",
  cloudwatch_owner: "AWS account id that owns the log group",
  cloudwatch_event_id: "CloudWatch log event id",
  kinesis_partition_key: "Kinesis record partition key",
  kinesis_sequence_number: "Kinesis record sequence number",
  kinesis_shard_id: "Kinesis shard id (from the record's eventID)",
  s3_bucket: "Bucket of the S3 log object the entry was read from (all S3-delivered logs)",
  s3_key: "Key of the S3 log object the entry was read from (all S3-delivered logs)",
  lb_client_ip: "Client IP address of a load balancer log line (ALB/NLB/CLB access and ALB connection logs)",
  lb_trace_id: "X-Amzn-Trace-Id of an ALB access log line",
  cloudfront_client_ip: "Viewer IP address (c-ip) of a CloudFront access log line",
  cloudfront_request_id: "x-edge-request-id of a CloudFront access log line",
  waf_client_ip: "httpRequest.clientIp of a WAF log record",
  waf_request_id: "httpRequest.requestId of a WAF log record",
  cloudtrail_event_id: "eventID of a CloudTrail record",
  guardduty_finding_id: "id of a GuardDuty finding",
  s3_access_remote_ip: "Remote IP of an S3 server access log line",
  s3_access_request_id: "Request id of an S3 server access log line",
  lambda_request_id: "Request id of the invocation that wrote the line (telemetry extension)",
  level: "Level of a JSON-format function log record (telemetry extension)",
} as const;

export type MetadataField = keyof typeof METADATA_FIELDS;

export function isMetadataField(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(METADATA_FIELDS, name);
}
