import type { StageSettings } from "../stacks/settings.ts";
import type { Stores } from "./access.ts";
import { dvssFunction } from "./function.ts";

/**
 * What runs without a request: the reconciler on a schedule, and the outbox's stream delivered
 * to an EventBridge bus for downstream consumers (a pipe: no code of ours between the two).
 */
export function events(settings: StageSettings, stores: Stores) {
  const reconciler = dvssFunction(
    "Reconciler",
    "packages/functions/src/reconciler.handler",
    settings,
    stores,
    {
      timeout: "2 minutes",
    },
  );
  const reconcilerSchedule = new sst.aws.CronV2("ReconcilerSchedule", {
    function: reconciler.arn,
    schedule: settings.reconcilerSchedule,
  });

  const outboxBus = new sst.aws.Bus("OutboxBus");
  const outbox = stores.tables.Outbox;
  const streamArn = outbox.nodes.table.streamArn;
  const pipeRole = new aws.iam.Role("OutboxPipeRole", {
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "pipes.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    }),
  });
  const pipePolicy = new aws.iam.RolePolicy("OutboxPipeRolePolicy", {
    role: pipeRole.id,
    policy: $jsonStringify({
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
      ],
    }),
  });
  const outboxPipe = new aws.pipes.Pipe(
    "OutboxPipe",
    {
      roleArn: pipeRole.arn,
      source: streamArn,
      sourceParameters: {
        dynamodbStreamParameters: {
          startingPosition: "TRIM_HORIZON",
          batchSize: 10,
          maximumRetryAttempts: 10,
        },
        // The outbox is append-only: each insert is one applied change.
        filterCriteria: { filters: [{ pattern: JSON.stringify({ eventName: ["INSERT"] }) }] },
      },
      target: outboxBus.arn,
      targetParameters: {
        eventbridgeEventBusParameters: { source: "dvss.outbox", detailType: "dvss.change.applied" },
        inputTemplate: "<$.dynamodb.NewImage>",
      },
    },
    { dependsOn: [pipePolicy] },
  );

  return { reconciler, reconcilerSchedule, outboxBus, outboxPipe };
}
