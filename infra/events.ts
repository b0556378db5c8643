import { OUTBOX_BUS_EVENT, OUTBOX_PIPE_FILTER, outboxBusTemplate } from "@dvss/core/outbox-bus";
import { buildNormalizeDefinition, reconcileAfterSeconds } from "@dvss/core/workflow";
import type { StageSettings } from "../stacks/settings.ts";
import type { Stores } from "./access.ts";
import { dvssFunction } from "./function.ts";
import { waitFor } from "./wait.ts";

/** How long the outbox pipe waits for its new role policy to propagate (seen needed: about 90 s). */
export const PIPE_IAM_WAIT_SECONDS = 120;

/**
 * What runs without a request: the reconciler on a schedule, and the outbox's stream delivered
 * to an EventBridge bus for downstream consumers (a pipe: no code of ours between the two), with
 * a dead-letter queue for what the bus would not take.
 */
export function events(settings: StageSettings, stores: Stores) {
  const reconciler = dvssFunction(
    "Reconciler",
    "packages/functions/src/reconciler.handler",
    settings,
    stores,
    {
      timeout: "2 minutes",
      environment: {
        // A record is stuck only once its last execution has certainly ended: the longest an
        // execution of this stage's workflow can run (retries and waits included), plus a margin.
        DVSS_RECONCILE_AFTER_SECONDS: String(
          reconcileAfterSeconds(
            buildNormalizeDefinition((task) => task),
            settings.workflowType,
          ),
        ),
      },
    },
  );
  const reconcilerSchedule = new sst.aws.CronV2("ReconcilerSchedule", {
    function: reconciler.arn,
    schedule: settings.reconcilerSchedule,
  });

  const outboxBus = new sst.aws.Bus("OutboxBus");
  const outbox = stores.tables.Outbox;
  const streamArn = outbox.nodes.table.streamArn;
  // Batches the pipe could not deliver after its retries: metadata of the batch (shard, sequence
  // numbers), kept 14 days (the most SQS keeps). The changes themselves stay in the feed.
  const deadLetters = new aws.sqs.Queue("OutboxPipeDeadLetters", {
    messageRetentionSeconds: 14 * 24 * 3600,
    sqsManagedSseEnabled: true,
  });
  const pipeRole = new aws.iam.Role("OutboxPipeRole", {
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "pipes.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    }),
  });
  const pipePolicyDocument = $jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadOutboxStream",
        Effect: "Allow",
        Action: [
          "dynamodb:DescribeStream",
          "dynamodb:GetRecords",
          "dynamodb:GetShardIterator",
          "dynamodb:ListStreams",
        ],
        Resource: [streamArn],
      },
      { Sid: "PublishChanges", Effect: "Allow", Action: ["events:PutEvents"], Resource: [outboxBus.arn] },
      {
        Sid: "DeadLetterBatches",
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: [deadLetters.arn],
      },
    ],
  });
  const pipePolicy = new aws.iam.RolePolicy("OutboxPipeRolePolicy", {
    role: pipeRole.id,
    policy: pipePolicyDocument,
  });
  // On a stage's first deploy the table, its stream, the role and its policy are all brand new, and
  // Pipes checks at creation that the role can read the stream: until IAM has propagated it answers
  // "Cannot access stream ... Please ensure the customer role can perform actions on source stream"
  // (a known race; a second deploy succeeds; about 90 s was seen to be needed). So the pipe waits.
  const iamWait = waitFor(
    "OutboxPipeIamWait",
    {
      seconds: PIPE_IAM_WAIT_SECONDS,
      triggers: { stream: streamArn, role: pipeRole.arn, policy: pipePolicyDocument },
    },
    { dependsOn: [pipePolicy] },
  );
  const outboxPipe = new aws.pipes.Pipe(
    "OutboxPipe",
    {
      roleArn: pipeRole.arn,
      source: streamArn,
      sourceParameters: {
        dynamodbStreamParameters: {
          startingPosition: "TRIM_HORIZON",
          batchSize: 10,
          // A batch the bus refuses is split in halves until the failing record is alone, retried,
          // then its batch's metadata goes to the dead-letter queue instead of being skipped.
          maximumRetryAttempts: 10,
          onPartialBatchItemFailure: "AUTOMATIC_BISECT",
          deadLetterConfig: { arn: deadLetters.arn },
        },
        // Feed changes only: gaps and the feed counter are inserts into the same table.
        filterCriteria: { filters: [{ pattern: JSON.stringify(OUTBOX_PIPE_FILTER) }] },
      },
      target: outboxBus.arn,
      targetParameters: {
        eventbridgeEventBusParameters: OUTBOX_BUS_EVENT,
        // The feed item without the event's data: dvss.state.changed (packages/core/src/outbox-bus.ts).
        inputTemplate: outboxBusTemplate(),
      },
    },
    { dependsOn: [outbox, pipePolicy, iamWait] },
  );

  return { reconciler, reconcilerSchedule, outboxBus, outboxPipe, outboxDeadLetters: deadLetters };
}
