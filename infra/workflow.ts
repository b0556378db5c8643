import {
  buildNormalizeDefinition,
  NORMALIZE_STATE_MACHINE,
  TASK_NAMES,
  type TaskName,
  WORKFLOW_TASKS,
} from "@dvss/core/workflow";
import { LOG_RETENTION_DAYS, type StageSettings } from "../stacks/settings.ts";
import type { FunctionName, Stores } from "./access.ts";
import { dvssFunction } from "./function.ts";

/** Vendor schemas and mappings are files bundled with the tasks that read them (relative to the working directory). */
const VENDOR_DEFINITIONS = { from: "schemas/vendors", to: "schemas/vendors" };
// Match reads each vendor's `match` policy from its vendor.json.
const READS_VENDOR_DEFINITIONS: TaskName[] = ["Map", "Match"];

/**
 * The Normalize state machine, deployed from the exact ASL JSON of buildNormalizeDefinition (the
 * JSON the local runtime runs). A plain Pulumi `aws.sfn.StateMachine`, not sst.aws.StepFunctions,
 * whose builder writes JSONata: see docs/spec/workflow-deployment.md.
 */
export function workflow(settings: StageSettings, stores: Stores) {
  const tasks = Object.fromEntries(
    TASK_NAMES.map((task) => {
      const { functionName, handler } = WORKFLOW_TASKS[task];
      const overrides = READS_VENDOR_DEFINITIONS.includes(task) ? { copyFiles: [VENDOR_DEFINITIONS] } : {};
      return [task, dvssFunction(functionName as FunctionName, handler, settings, stores, overrides)];
    }),
  ) as Record<TaskName, sst.aws.Function>;

  const stateMachineName = `${$app.name}-${$app.stage}-${NORMALIZE_STATE_MACHINE}`;
  // Express executions are visible only through these logs: every event with its data on a stage
  // at ALL, failures only at ERROR (settings.workflowLogging).
  const logGroup = new aws.cloudwatch.LogGroup(`${NORMALIZE_STATE_MACHINE}Logs`, {
    name: `/aws/vendedlogs/states/${stateMachineName}`,
    retentionInDays: LOG_RETENTION_DAYS[settings.logRetention],
  });

  // Its own role: invoke exactly the task functions, and deliver its logs.
  const role = new aws.iam.Role(`${NORMALIZE_STATE_MACHINE}Role`, {
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "states.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    }),
  });
  const policy = new aws.iam.RolePolicy(`${NORMALIZE_STATE_MACHINE}RolePolicy`, {
    role: role.id,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "InvokeTasks",
          Effect: "Allow",
          Action: ["lambda:InvokeFunction"],
          Resource: TASK_NAMES.map((task) => tasks[task].arn),
        },
        {
          // Log delivery is authorized on "*" only (CloudWatch Logs vended-log API).
          Sid: "DeliverLogs",
          Effect: "Allow",
          Action: [
            "logs:CreateLogDelivery",
            "logs:GetLogDelivery",
            "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups",
          ],
          Resource: "*",
        },
      ],
    }),
  });

  const taskArns = $resolve(Object.fromEntries(TASK_NAMES.map((task) => [task, tasks[task].arn])));
  const stateMachine = new aws.sfn.StateMachine(
    NORMALIZE_STATE_MACHINE,
    {
      name: stateMachineName,
      type: settings.workflowType,
      roleArn: role.arn,
      definition: taskArns.apply((arns) =>
        JSON.stringify(buildNormalizeDefinition((task) => (arns as Record<TaskName, string>)[task])),
      ),
      loggingConfiguration: {
        level: settings.workflowLogging.level,
        includeExecutionData: settings.workflowLogging.includeExecutionData,
        logDestination: $interpolate`${logGroup.arn}:*`,
      },
    },
    { dependsOn: [policy] },
  );

  return { tasks, stateMachine, role, logGroup };
}
