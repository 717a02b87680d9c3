/**
 * Object key -> log type and base labels. The keys are AWS's documented examples and the ones
 * lambda-promtail's own tests use, so the label values users rely on stay the same.
 */
import { expect } from "chai";
import { classifyKey, notALogFile } from "../handler/parsers/keys";
import { BadRecordError } from "../handler/types";

const classify = (key: string) => classifyKey(key, `s3://bucket/${key}`);

describe("S3 object key -> log type and labels", () => {
  const cases: { name: string; key: string; format: string; labels: Record<string, string>; variant?: string }[] = [
    {
      name: "ALB access log",
      key: "my-bucket/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2022/01/24/123456789012_elasticloadbalancing_us-east-1_app.my-loadbalancer.b13ea9d19f16d015_20220124T0000Z_0.0.0.0_2et2e1mx.log.gz",
      format: "lb", variant: "alb",
      labels: { __aws_log_type: "s3_lb", __aws_s3_lb: "my-loadbalancer", __aws_s3_lb_owner: "123456789012" },
    },
    {
      name: "NLB access log (end time without T)",
      key: "my-bucket/prefix/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/123456789012_elasticloadbalancing_us-east-2_net.my-loadbalancer.1234567890abcdef_201605010000Z_2soosksi.log.gz",
      format: "lb", variant: "nlb",
      labels: { __aws_log_type: "s3_lb", __aws_s3_lb: "my-loadbalancer", __aws_s3_lb_owner: "123456789012" },
    },
    {
      name: "CLB access log",
      key: "AWSLogs/123456789012/elasticloadbalancing/us-west-2/2014/02/15/123456789012_elasticloadbalancing_us-west-2_my-loadbalancer_20140215T2340Z_172.160.001.192_20sg8hgm.log",
      format: "lb", variant: "clb",
      labels: { __aws_log_type: "s3_lb", __aws_s3_lb: "my-loadbalancer", __aws_s3_lb_owner: "123456789012" },
    },
    {
      name: "CLB whose name starts with app (not an ALB)",
      key: "AWSLogs/123456789012/elasticloadbalancing/us-west-2/2014/02/15/123456789012_elasticloadbalancing_us-west-2_application-lb_20140215T2340Z_172.160.001.192_20sg8hgm.log",
      format: "lb", variant: "clb",
      labels: { __aws_log_type: "s3_lb", __aws_s3_lb: "application-lb", __aws_s3_lb_owner: "123456789012" },
    },
    {
      name: "ALB with digits in its name (k8s ingress)",
      key: "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2024/02/07/123456789012_elasticloadbalancing_eu-west-1_app.k8s-default-web-0a1b2c3d4e.5ede558f4b0e97a9_20240207T0955Z_10.43.1.2_b38hdhc6.log.gz",
      format: "lb", variant: "alb",
      labels: { __aws_log_type: "s3_lb", __aws_s3_lb: "k8s-default-web-0a1b2c3d4e", __aws_s3_lb_owner: "123456789012" },
    },
    {
      name: "ALB connection log (conn_log_ as delivered)",
      key: "AWSLogs/347414000000/elasticloadbalancing/eu-central-1/2024/02/07/conn_log_347414000000_elasticloadbalancing_eu-central-1_app.my-alb.5ede558f4b0e97a9_20240207T0955Z_10.43.1.2_b38hdhc6.log.gz",
      format: "lb", variant: "alb_connection",
      labels: { __aws_log_type: "s3_lb", __aws_s3_lb: "my-alb", __aws_s3_lb_owner: "347414000000" },
    },
    {
      name: "ALB connection log (conn_log. as documented)",
      key: "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/02/07/conn_log.123456789012_elasticloadbalancing_us-east-1_app.my-alb.5ede558f4b0e97a9_20240207T0955Z_10.0.0.1_abcd1234.log.gz",
      format: "lb", variant: "alb_connection",
      labels: { __aws_log_type: "s3_lb", __aws_s3_lb: "my-alb", __aws_s3_lb_owner: "123456789012" },
    },
    {
      name: "ALB health check log",
      key: "health-check-logs/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2025/11/21/health_check_log_123456789012_elasticloadbalancing_us-east-1_app.my-alb.5ede558f4b0e97a9_20251121T1015Z_10.0.0.1_abcd1234.log.gz",
      format: "lb", variant: "alb_health_check",
      labels: { __aws_log_type: "s3_lb", __aws_s3_lb: "my-alb", __aws_s3_lb_owner: "123456789012" },
    },
    {
      name: "VPC flow log",
      key: "my-bucket/AWSLogs/123456789012/vpcflowlogs/us-east-1/2022/01/24/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
      format: "vpc_flow",
      labels: { __aws_log_type: "s3_vpc_flow", __aws_s3_vpc_flow: "fl-1234abcd", __aws_s3_vpc_flow_owner: "123456789012" },
    },
    {
      name: "VPC flow log in GovCloud",
      key: "my-bucket/AWSLogs/123456789012/vpcflowlogs/us-gov-east-1/2022/01/24/123456789012_vpcflowlogs_us-gov-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
      format: "vpc_flow",
      labels: { __aws_log_type: "s3_vpc_flow", __aws_s3_vpc_flow: "fl-1234abcd", __aws_s3_vpc_flow_owner: "123456789012" },
    },
    {
      name: "VPC flow log under Hive-compatible prefixes",
      key: "flows/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2023/month=03/day=01/hour=10/123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d_20230301T1000Z_hash0123.log.gz",
      format: "vpc_flow",
      labels: { __aws_log_type: "s3_vpc_flow", __aws_s3_vpc_flow: "fl-0a1b2c3d", __aws_s3_vpc_flow_owner: "123456789012" },
    },
    {
      name: "CloudTrail (source label is the region, not the file's random suffix)",
      key: "my-bucket/AWSLogs/123456789012/CloudTrail/us-east-1/2022/01/24/123456789012_CloudTrail_us-east-1_20220124T0000Z_4jhzXFO2Jlvu2b3y.json.gz",
      format: "cloudtrail",
      labels: { __aws_log_type: "s3_cloudtrail", __aws_s3_cloudtrail: "us-east-1", __aws_s3_cloudtrail_owner: "123456789012" },
    },
    {
      name: "organization CloudTrail",
      key: "my-bucket/AWSLogs/o-test123456/123456789012/CloudTrail/us-east-1/2022/01/24/123456789012_CloudTrail_us-east-1_20220124T0000Z_4jhzXFO2Jlvu2b3y.json.gz",
      format: "cloudtrail",
      labels: { __aws_log_type: "s3_cloudtrail", __aws_s3_cloudtrail: "us-east-1", __aws_s3_cloudtrail_owner: "123456789012" },
    },
    {
      name: "CloudTrail Insights",
      key: "AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2022/01/24/123456789012_CloudTrail-Insight_us-east-1_20220124T0000Z_4jhzXFO2Jlvu2b3y.json.gz",
      format: "cloudtrail",
      labels: { __aws_log_type: "s3_cloudtrail", __aws_s3_cloudtrail: "us-east-1", __aws_s3_cloudtrail_owner: "123456789012" },
    },
    {
      name: "CloudFront standard log",
      key: "my/bucket/prefix/E2K2LNL5N3WR51.2022-07-18-12.a10a8496.gz",
      format: "cloudfront",
      labels: { __aws_log_type: "s3_cloudfront", __aws_s3_cloudfront: "E2K2LNL5N3WR51", __aws_s3_cloudfront_owner: "my/bucket/prefix" },
    },
    {
      name: "CloudFront log at the bucket root (no owner)",
      key: "EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz",
      format: "cloudfront",
      labels: { __aws_log_type: "s3_cloudfront", __aws_s3_cloudfront: "EMLARXS9EXAMPLE" },
    },
    {
      name: "WAF log",
      key: "prefix/AWSLogs/11111111111/WAFLogs/us-east-1/TEST-WEBACL/2021/10/28/19/50/11111111111_waflogs_us-east-1_TEST-WEBACL_20211028T1950Z_e0ca43b5.log.gz",
      format: "waf",
      labels: { __aws_log_type: "s3_waf", __aws_s3_waf: "TEST-WEBACL", __aws_s3_waf_owner: "11111111111" },
    },
    {
      name: "WAF log of a CloudFront web ACL",
      key: "aws-waf-logs-x/AWSLogs/111122223333/WAFLogs/cloudfront/my_acl-1/2023/08/31/04/55/111122223333_waflogs_cloudfront_my_acl-1_20230831T0455Z_a1b2c3d4.log.gz",
      format: "waf",
      labels: { __aws_log_type: "s3_waf", __aws_s3_waf: "my_acl-1", __aws_s3_waf_owner: "111122223333" },
    },
    {
      name: "GuardDuty export (no source name in the key)",
      key: "AWSLogs/123456789012/GuardDuty/us-east-1/2024/05/30/07a3f2ce-1485-3031-b842-e1f324c4a48d.jsonl.gz",
      format: "guardduty",
      labels: { __aws_log_type: "s3_guardduty", __aws_s3_guardduty_owner: "123456789012" },
    },
    {
      name: "S3 access log, date-partitioned",
      key: "logs/123456789012/us-west-2/amzn-s3-demo-source-bucket/2023/03/01/2023-03-01-21-32-16-E568B2907131C0C0",
      format: "s3_access",
      labels: { __aws_log_type: "s3_access", __aws_s3_access: "amzn-s3-demo-source-bucket", __aws_s3_access_owner: "123456789012" },
    },
    {
      name: "S3 access log, date-partitioned, bucket name with dots",
      key: "123456789012/eu-west-1/logs.example.com/2023/03/01/2023-03-01-21-32-16-E568B2907131C0C0",
      format: "s3_access",
      labels: { __aws_log_type: "s3_access", __aws_s3_access: "logs.example.com", __aws_s3_access_owner: "123456789012" },
    },
    {
      name: "MSK broker log (lambda-promtail 1.0's s3_msk; the cluster directory names the cluster)",
      key: "prefix/AWSLogs/111111111111/KafkaBrokerLogs/eu-south-2/msk-test-name-7f6b9b77-24f9-4921-87b6-d29a6401e292-3/2025-07-04-11/Broker-1_11-55_cab960bb.log.gz",
      format: "msk",
      labels: { __aws_log_type: "s3_msk", __aws_s3_msk: "msk-test-name-7f6b9b77-24f9-4921-87b6-d29a6401e292-3", __aws_s3_msk_owner: "111111111111" },
    },
    {
      name: "MSK broker log of a broker with a two-digit id, without a prefix",
      key: "AWSLogs/123456789012/KafkaBrokerLogs/us-east-1/orders-0a1b2c3d-4e5f-6789-abcd-ef0123456789-12/2025-11-30-23/Broker-12_23-55_0f1e2d3c.log.gz",
      format: "msk",
      labels: { __aws_log_type: "s3_msk", __aws_s3_msk: "orders-0a1b2c3d-4e5f-6789-abcd-ef0123456789-12", __aws_s3_msk_owner: "123456789012" },
    },
    {
      name: "S3 access log, simple (source bucket comes from the lines)",
      key: "access-logs/2019-02-06-00-00-38-5F3A8C2E1D4B6A70",
      format: "s3_access",
      labels: { __aws_log_type: "s3_access" },
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const info = classify(c.key);
      expect(info.format).to.equal(c.format);
      expect(info.labels).to.deep.equal(c.labels);
      expect(info.lbVariant).to.equal(c.variant);
      expect(info.skipReason).to.equal(undefined);
    });
  }

  it("recognises CloudTrail digest files and marks them to skip", () => {
    const info = classify("my-bucket/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2022/01/24/123456789012_CloudTrail-Digest_us-east-1_20220124T0000Z_4jhzXFO2Jlvu2b3y.json.gz");
    expect(info.format).to.equal("cloudtrail");
    expect(info.skipReason).to.match(/digest/);
  });

  const notLogFiles: [string, string, RegExp][] = [
    ["a CloudTrail digest file, as AWS names it",
      "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2016/08/16/111122223333_CloudTrail-Digest_us-east-2_awscloudtrail-trail-name_us-east-2_20160816T230550Z.json.gz", /digest/],
    ["a digest of an organization trail whose home region differs",
      "my-prefix/AWSLogs/o-exampleorg1/123456789012/CloudTrail-Digest/eu-west-1/2024/05/01/123456789012_CloudTrail-Digest_eu-west-1_org-trail_us-east-1_20240501T010203Z.json.gz", /digest/],
    ["any object under a CloudTrail-Digest directory",
      "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/01/unexpected-name.json.gz", /digest/],
    ["the load balancer's access-logging test file",
      "alb-logs/AWSLogs/123456789012/ELBAccessLogTestFile", /test object a load balancer writes/],
    ["the test file without a prefix", "AWSLogs/123456789012/ELBAccessLogTestFile", /test object/],
    ["a folder placeholder", "AWSLogs/123456789012/elasticloadbalancing/", /folder placeholder/],
    ["the console's folder at the bucket's top", "logs/", /folder placeholder/],
  ];
  for (const [what, key, reason] of notLogFiles) {
    it(`recognises ${what} as holding no log lines, so it is skipped rather than failed`, () => {
      expect(notALogFile(key)).to.match(reason);
    });
  }

  it("does not mistake log files for objects to skip", () => {
    for (const c of cases) expect(notALogFile(c.key), c.name).to.equal(undefined);
    expect(notALogFile("AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/123456789012_CloudTrail_us-east-1_20240501T0000Z_AbCdEf123.json.gz")).to.equal(undefined);
    expect(notALogFile("some/ELBAccessLogTestFile.log.gz")).to.equal(undefined);
  });

  it("rejects an unknown key with a BadRecordError naming the object", () => {
    expect(() => classify("some-object.json")).to.throw(BadRecordError, /s3:\/\/bucket\/some-object\.json: cannot tell the log type/);
    expect(() => classify("AWSLogs/123/unknown-service/us-east-1/2024/01/01/file.log.gz")).to.throw(BadRecordError);
  });

  it("rejects Parquet VPC flow logs as not supported", () => {
    expect(() => classify("AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/03/01/123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d_20230301T1000Z_hash0123.log.parquet"))
      .to.throw(BadRecordError, /Parquet VPC flow logs are not supported/);
  });

  it("reads keys with spaces and unicode (after URL decoding)", () => {
    const info = classify("my prefix/ünïcødé ✓/AWSLogs/11111111111/WAFLogs/us-east-1/TEST-WEBACL/2021/10/28/19/50/11111111111_waflogs_us-east-1_TEST-WEBACL_20211028T1950Z_e0ca43b5.log.gz");
    expect(info.labels.__aws_s3_waf).to.equal("TEST-WEBACL");
  });
});
