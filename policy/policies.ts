/**
 * Every policy of the lambda-promtail pack, in the order they are documented. `index.ts` builds
 * the PolicyPack from this list; tests and other tools run the policies directly.
 */
import type { Policies } from "@pulumi/policy";
import { batchSizeBounds } from "./policies/batch-size-bounds";
import { deadLetterQueueAlarm } from "./policies/dead-letter-queue-alarm";
import { extraLabelsPerDeployment } from "./policies/extra-labels-per-deployment";
import { keepStreamLabel } from "./policies/keep-stream-label";
import { kinesisFailureHandling } from "./policies/kinesis-failure-handling";
import { labelLimit } from "./policies/label-limit";
import { logGroupRetention } from "./policies/log-group-retention";
import { plaintextCredentials } from "./policies/plaintext-credentials";
import { plaintextWriteAddress } from "./policies/plaintext-write-address";
import { printLogLine } from "./policies/print-log-line";
import { relabelHighCardinality } from "./policies/relabel-high-cardinality";
import { reportBatchItemFailures } from "./policies/report-batch-item-failures";
import { skipTlsVerify } from "./policies/skip-tls-verify";
import { sqsDeadLetterQueue } from "./policies/sqs-dead-letter-queue";
import { sqsVisibilityTimeout } from "./policies/sqs-visibility-timeout";
import { stageLabelHighCardinality } from "./policies/stage-label-high-cardinality";
import { validShipperSettings } from "./policies/valid-shipper-settings";

export const PACK_NAME = "lambda-promtail";

export const policies: Policies = [
  // Label cardinality
  keepStreamLabel,
  relabelHighCardinality,
  stageLabelHighCardinality,
  labelLimit,
  extraLabelsPerDeployment,
  // Delivery
  sqsDeadLetterQueue,
  sqsVisibilityTimeout,
  reportBatchItemFailures,
  kinesisFailureHandling,
  deadLetterQueueAlarm,
  batchSizeBounds,
  // Security and cost
  skipTlsVerify,
  plaintextWriteAddress,
  plaintextCredentials,
  printLogLine,
  logGroupRetention,
  // The function must start at all
  validShipperSettings,
];
