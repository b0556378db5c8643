import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PRODUCTION_EXPRESS_LOG_LEVEL, PRODUCTION_LAMBDA_SYSTEM_LOG_LEVEL } from "@dvss/core/cost";
import { apiKeyEntity, vendorEntity, vendorSigningEntity } from "@dvss/core/entities/vendor";
import { OUTBOX_BUS_EVENT, OUTBOX_PIPE_FILTER, outboxBusTemplate } from "@dvss/core/outbox-bus";
import { ROUTES } from "@dvss/core/routes";
import { BUCKET_NAMES, OBJECT_LOCK_BUCKETS, TABLE_NAMES, TABLES, type TableName } from "@dvss/core/tables";
import {
  buildNormalizeDefinition,
  EXPRESS_MAX_SECONDS,
  reconcileAfterSeconds,
  TASK_NAMES,
  WORKFLOW_TASKS,
} from "@dvss/core/workflow";
import { describe, expect, it, vi } from "vitest";
import { deployStage } from "../../stacks/index.ts";
import {
  FEED_EVENTS_PER_SECOND,
  FEED_PARTITION,
  STAGES,
  type StageSettings,
  stageSettings,
} from "../../stacks/settings.ts";
import { SIGNING_PARTITIONS } from "../access.ts";
import { FUNCTION_ENVIRONMENT, functionLogLevels } from "../function.ts";
import { deployedVendorIds } from "../monitoring.ts";
import { WAIT_PROVIDER } from "../wait.ts";
import { FakeSst } from "./sst-fake.ts";

/** Pulumi's closure serializer in SST's platform code (`npx sst install`), when installed. */
const PULUMI_CLOSURE = fileURLToPath(
  new URL(
    "../../.sst/platform/node_modules/@pulumi/pulumi/runtime/closure/serializeClosure.js",
    import.meta.url,
  ),
);
const require = createRequire(import.meta.url);

/** Evaluates the stacks of one stage against recording stand-ins of SST's globals. */
function evaluate(stage: string, settings?: StageSettings) {
  const sst = new FakeSst().install(stage);
  const outputs = deployStage(stage, settings);
  return { sst, outputs };
}

interface Statement {
  effect?: "allow" | "deny";
  actions: string[];
  resources: string[];
  conditions?: { test: string; variable: string; values: string[] }[];
}

/** Allow statements as "action on resource" pairs: grouping may change, what is allowed may not. */
function grants(statements: Statement[]): string[] {
  return statements
    .filter((s) => (s.effect ?? "allow") === "allow")
    .flatMap((s) => s.actions.flatMap((a) => s.resources.map((r) => `${a} on ${r}`)))
    .sort();
}

/** Deny statements, as written. */
const denials = (statements: Statement[]) => statements.filter((s) => s.effect === "deny");

const table = (name: string) => [`${name}.arn`];
const objects = (bucket: string) => [`${bucket}.arn/*`];
/** Reads: items of the table, and queries of its indexes (a table without indexes: none). */
const reads = (name: TableName, ...writes: string[]): Statement[] => [
  { actions: ["dynamodb:GetItem", "dynamodb:Query", ...writes], resources: table(name) },
  ...(Object.keys(TABLES[name].globalIndexes).length > 0
    ? [{ actions: ["dynamodb:Query"], resources: [`${name}.arn/index/*`] }]
    : []),
];

/** The least-privilege contract: what each function may do. A wider grant fails this test. */
const EXPECTED_PERMISSIONS: Record<string, Statement[]> = {
  IngestApi: [
    ...reads("Vendors"),
    ...reads("IngestRecords", "dynamodb:PutItem"),
    { actions: ["dynamodb:PutItem"], resources: table("Divergence") },
    { actions: ["dynamodb:UpdateItem"], resources: table("Scorecards") },
    { actions: ["s3:PutObject", "s3:DeleteObject"], resources: objects("RawBucket") },
    { actions: ["states:StartExecution"], resources: ["Normalize.arn"] },
  ],
  EventsApi: [...reads("Vendors"), ...reads("IngestRecords")],
  ConsumerApi: [
    ...reads("Vendors"),
    ...reads("CanonicalState"),
    ...reads("Divergence"),
    ...reads("Outbox", "dynamodb:PutItem"),
  ],
  HealthApi: [...reads("Vendors"), { actions: ["s3:ListBucket"], resources: ["RawBucket.arn"] }],
  MapTask: [
    ...reads("Vendors"),
    { actions: ["dynamodb:UpdateItem"], resources: table("Divergence") },
    { actions: ["dynamodb:UpdateItem"], resources: table("Scorecards") },
    { actions: ["s3:GetObject"], resources: objects("RawBucket") },
    { actions: ["s3:ListBucket"], resources: ["RawBucket.arn"] },
    { actions: ["s3:PutObject"], resources: objects("NormalizedBucket") },
  ],
  MatchTask: [
    ...reads("Vendors"),
    { actions: ["s3:GetObject"], resources: objects("NormalizedBucket") },
    { actions: ["s3:ListBucket"], resources: ["NormalizedBucket.arn"] },
  ],
  ApplyStateTask: [
    ...reads("Vendors"),
    ...reads("CanonicalState", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    { actions: ["dynamodb:PutItem"], resources: table("Divergence") },
    ...reads("Outbox", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    // It marks the record NORMALIZED (one UpdateItem answering the record as it was), resolves
    // a redriven event's quarantine entry and counts the outcome.
    { actions: ["dynamodb:UpdateItem"], resources: table("IngestRecords") },
    ...reads("Quarantine", "dynamodb:UpdateItem"),
    { actions: ["dynamodb:UpdateItem"], resources: table("Scorecards") },
    { actions: ["s3:GetObject"], resources: objects("NormalizedBucket") },
    { actions: ["s3:ListBucket"], resources: ["NormalizedBucket.arn"] },
  ],
  UpdateStatusTask: [
    ...reads("IngestRecords", "dynamodb:UpdateItem"),
    ...reads("Quarantine", "dynamodb:UpdateItem"),
    { actions: ["dynamodb:UpdateItem"], resources: table("Scorecards") },
  ],
  QuarantineTask: [
    ...reads("IngestRecords"),
    { actions: ["dynamodb:PutItem"], resources: table("Quarantine") },
  ],
  Reconciler: [
    ...reads("IngestRecords", "dynamodb:UpdateItem"),
    { actions: ["dynamodb:PutItem"], resources: table("Quarantine") },
    { actions: ["states:StartExecution"], resources: ["Normalize.arn"] },
  ],
};

const functionsOf = (sst: FakeSst) => new Map(sst.all("sst.aws.Function").map((fn) => [fn.name, fn]));

function policyOf(
  sst: FakeSst,
  name: string,
): { Sid?: string; Action: string[]; Resource: string | string[] }[] {
  return JSON.parse(sst.one("aws.iam.RolePolicy", name).args.policy).Statement;
}

describe("the Normalize workflow stack", () => {
  it("deploys exactly the definition the core builder produces", () => {
    // prepare
    const { sst } = evaluate("dev");

    // act
    const machine = sst.one("aws.sfn.StateMachine", "Normalize");

    // assess
    const expected = buildNormalizeDefinition((task) => `${WORKFLOW_TASKS[task].functionName}.arn`);
    expect(JSON.parse(machine.args.definition)).toEqual(expected);
    expect(machine.args.type).toBe("EXPRESS");
    expect(machine.args.roleArn).toBe("NormalizeRole.arn");
    expect(machine.args.loggingConfiguration).toEqual({
      level: "ALL",
      includeExecutionData: true,
      logDestination: "NormalizeLogs.arn:*",
    });
  });

  it("logs only failures, without execution data, in production, at the level the cost model assumes", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const machine = sst.one("aws.sfn.StateMachine", "Normalize");

    // assess
    expect(machine.args.loggingConfiguration).toEqual({
      level: "ERROR",
      includeExecutionData: false,
      logDestination: "NormalizeLogs.arn:*",
    });
    expect(STAGES.production.workflowLogging.level).toBe(PRODUCTION_EXPRESS_LOG_LEVEL);
    expect(stageSettings("pr-123").workflowLogging).toEqual({ level: "ALL", includeExecutionData: true });
  });

  it("switches the same definition to STANDARD when the stage says so", () => {
    // prepare
    const settings: StageSettings = { ...stageSettings("dev"), workflowType: "STANDARD" };

    // act
    const { sst } = evaluate("dev", settings);

    // assess
    const machine = sst.one("aws.sfn.StateMachine", "Normalize");
    expect(machine.args.type).toBe("STANDARD");
    expect(JSON.parse(machine.args.definition).StartAt).toBe("Map");
  });

  it("creates one nodejs24.x function per task with the task's handler, vendor definitions bundled where read", () => {
    // prepare
    const { sst } = evaluate("dev");

    // act
    const functions = functionsOf(sst);

    // assess
    for (const task of TASK_NAMES) {
      const fn = functions.get(WORKFLOW_TASKS[task].functionName);
      expect(fn?.args.handler).toBe(WORKFLOW_TASKS[task].handler);
      expect(fn?.args.runtime).toBe("nodejs24.x");
    }
    const bundlingDefinitions = TASK_NAMES.filter((task) =>
      functions
        .get(WORKFLOW_TASKS[task].functionName)
        ?.args.copyFiles?.some((copy: { from: string }) => copy.from === "schemas/vendors"),
    );
    expect(bundlingDefinitions).toEqual(["Map", "Match"]);
  });

  it("lets the state machine's role invoke the task functions and nothing else", () => {
    // prepare
    const { sst } = evaluate("dev");
    const taskArns = TASK_NAMES.map((task) => `${WORKFLOW_TASKS[task].functionName}.arn`).sort();

    // act
    const statements = policyOf(sst, "NormalizeRolePolicy");
    const invoke = statements.filter((s) => s.Action.some((action) => action.startsWith("lambda:")));
    const others = statements.filter((s) => !invoke.includes(s));

    // assess
    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.Action).toEqual(["lambda:InvokeFunction"]);
    expect([invoke[0]?.Resource ?? []].flat().sort()).toEqual(taskArns);
    expect(others.flatMap((s) => s.Action).every((action) => action.startsWith("logs:"))).toBe(true);
    expect(sst.one("aws.iam.Role", "NormalizeRole").args.assumeRolePolicy).toContain("states.amazonaws.com");
  });

  it("gives no one else a way to invoke a task function", () => {
    // prepare
    const { sst } = evaluate("production");
    const taskArns = new Set(TASK_NAMES.map((task) => `${WORKFLOW_TASKS[task].functionName}.arn`));

    // act
    const routeTargets = sst.one("sst.aws.ApiGatewayV2", "Api").calls.map((call) => call.args[1]);
    const scheduleTargets = sst.all("sst.aws.CronV2").map((cron) => cron.args.function);
    const functionGrants = sst
      .all("sst.aws.Function")
      .flatMap((fn) => grants(fn.args.permissions))
      .filter((grant) => grant.startsWith("lambda:"));
    const lambdaPermissions = sst.all("aws.lambda.Permission");

    // assess
    expect([...routeTargets, ...scheduleTargets].filter((target) => taskArns.has(target as string))).toEqual(
      [],
    );
    expect(functionGrants).toEqual([]);
    expect(lambdaPermissions).toEqual([]);
  });
});

describe("least privilege", () => {
  it("grants each function exactly the actions it uses on the resources it touches", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const actual = Object.fromEntries(
      [...functionsOf(sst)].map(([name, fn]) => [name, grants(fn.args.permissions as Statement[])]),
    );

    // assess
    const expected = Object.fromEntries(
      Object.entries(EXPECTED_PERMISSIONS).map(([name, statements]) => [name, grants(statements)]),
    );
    expect(actual).toEqual(expected);
  });

  it("denies the signing secrets' partitions of the Vendors table to every function but ingest", () => {
    // prepare
    const { sst } = evaluate("production");
    const signingKey = vendorSigningEntity({ table: "Vendors" }).get({ vendorId: "vendorA" }).params().Key.pk;
    const otherKeys = [
      vendorEntity({ table: "Vendors" }).get({ vendorId: "vendorA" }).params().Key.pk,
      apiKeyEntity({ table: "Vendors" }).get({ keyHash: "h" }).params().Key.pk,
    ];
    const pattern = new RegExp(`^${SIGNING_PARTITIONS.replace("*", ".*")}$`);

    // act
    const denied = Object.fromEntries(
      [...functionsOf(sst)].map(([name, fn]) => [name, denials(fn.args.permissions as Statement[])]),
    );

    // assess
    expect(signingKey).toMatch(pattern);
    for (const key of otherKeys) expect(key).not.toMatch(pattern);
    for (const [name, statements] of Object.entries(EXPECTED_PERMISSIONS)) {
      const readsVendors = grants(statements).includes("dynamodb:GetItem on Vendors.arn");
      if (name === "IngestApi" || !readsVendors) {
        expect(denied[name], name).toEqual([]);
        continue;
      }
      expect(denied[name], name).toEqual([
        {
          effect: "deny",
          actions: expect.arrayContaining(["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]),
          resources: ["Vendors.arn"],
          conditions: [
            { test: "ForAnyValue:StringLike", variable: "dynamodb:LeadingKeys", values: ["signing#*"] },
          ],
        },
        { effect: "deny", actions: ["dynamodb:Scan"], resources: ["Vendors.arn"] },
      ]);
    }
    expect(
      Object.entries(denied)
        .filter(([, statements]) => statements.length > 0)
        .map(([name]) => name)
        .sort(),
    ).toEqual(["ApplyStateTask", "ConsumerApi", "EventsApi", "HealthApi", "MapTask", "MatchTask"]);
  });

  it("never grants a wildcard action or a wildcard resource to a function", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const all = sst.all("sst.aws.Function").flatMap((fn) => grants(fn.args.permissions));

    // assess
    expect(all.filter((grant) => /^\S*\* on | on \*$/.test(grant))).toEqual([]);
    expect(sst.all("sst.aws.Function").every((fn) => fn.args.policies === undefined)).toBe(true);
  });

  it("links each function to what it touches, and a link carries names only", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const links = [...functionsOf(sst)].map(([name, fn]) => {
      const linked = (fn.args.link as unknown[]).map((instance) => FakeSst.recordOf(instance));
      const definitions = (fn.args.link as unknown[]).map((instance) => {
        const wrap = sst.linkWrappers.get(FakeSst.recordOf(instance).type);
        return wrap?.(instance);
      });
      return { name, linked: linked.map((record) => record.name).sort(), definitions };
    });

    // assess
    for (const { name, linked, definitions } of links) {
      const touched = [
        ...new Set(
          (EXPECTED_PERMISSIONS[name] ?? []).flatMap((s) =>
            s.resources.map((resource) => resource.split(".")[0]),
          ),
        ),
      ].sort();
      expect(linked, name).toEqual(touched);
      for (const definition of definitions) {
        // Without our wrapper a link would bring SST's own `*` permissions.
        expect(definition, name).toBeDefined();
        expect(definition?.include, name).toBeUndefined();
        expect(
          Object.keys(definition?.properties ?? {}).every((key) => key === "name" || key === "arn"),
        ).toBe(true);
      }
    }
  });

  it("keeps the outbox pipe to reading the stream and publishing to the bus", () => {
    // prepare
    const { sst } = evaluate("dev");

    // act
    const statements = policyOf(sst, "OutboxPipeRolePolicy");
    const pipe = sst.one("aws.pipes.Pipe", "OutboxPipe");

    // assess
    expect(grants(statements.map((s) => ({ actions: s.Action, resources: [s.Resource].flat() })))).toEqual(
      grants([
        {
          actions: [
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
          ],
          resources: ["Outbox.nodes.table.streamArn"],
        },
        { actions: ["events:PutEvents"], resources: ["OutboxBus.arn"] },
        { actions: ["sqs:SendMessage"], resources: ["OutboxPipeDeadLetters.arn"] },
      ]),
    );
    expect(pipe.args).toMatchObject({ source: "Outbox.nodes.table.streamArn", target: "OutboxBus.arn" });
  });
});

describe("the outbox pipe", () => {
  it("is created only after the outbox table, its role policy and a wait for IAM to propagate", () => {
    // prepare
    const { sst } = evaluate("dev");

    // act
    const pipe = sst.one("aws.pipes.Pipe", "OutboxPipe");
    const dependsOn = ((pipe.opts as { dependsOn?: unknown[] }).dependsOn ?? []).map((instance) => {
      const record = FakeSst.recordOf(instance);
      return `${record.type} ${record.name}`;
    });
    const wait = sst.one("$util.dynamic.Resource", "OutboxPipeIamWait");

    // assess: a stage's first deploy creates the table, its stream, the role and the pipe at once;
    // Pipes refuses a source stream its role cannot read yet ("Cannot access stream").
    expect(dependsOn.sort()).toEqual(
      [
        "sst.aws.Dynamo Outbox",
        "aws.iam.RolePolicy OutboxPipeRolePolicy",
        "$util.dynamic.Resource OutboxPipeIamWait",
      ].sort(),
    );
    expect(wait.args.seconds).toBeGreaterThanOrEqual(90);
    expect(wait.args.triggers).toEqual({
      stream: "Outbox.nodes.table.streamArn",
      role: "OutboxPipeRole.arn",
      policy: sst.one("aws.iam.RolePolicy", "OutboxPipeRolePolicy").args.policy,
    });
    expect(wait.provider).toBe(WAIT_PROVIDER);
    expect(FakeSst.recordOf((wait.opts as { dependsOn: unknown[] }).dependsOn[0]).name).toBe(
      "OutboxPipeRolePolicy",
    );
  });

  it("forwards only the feed's changes: inserts whose kind is change, not gaps nor the counter", () => {
    // prepare
    const { sst } = evaluate("dev");

    // act
    const pipe = sst.one("aws.pipes.Pipe", "OutboxPipe");
    const patterns = pipe.args.sourceParameters.filterCriteria.filters.map((filter: { pattern: string }) =>
      JSON.parse(filter.pattern),
    );

    // assess (packages/core/test/outbox-bus.test.ts runs the pattern over the items the table holds)
    expect(patterns).toEqual([OUTBOX_PIPE_FILTER]);
  });

  it("puts each change on the bus as dvss.state.changed without the event's data, and dead-letters a batch it cannot deliver", () => {
    // prepare
    const { sst } = evaluate("dev");

    // act
    const pipe = sst.one("aws.pipes.Pipe", "OutboxPipe").args;
    const stream = pipe.sourceParameters.dynamodbStreamParameters;
    const deadLetters = sst.one("aws.sqs.Queue", "OutboxPipeDeadLetters").args;

    // assess
    expect(pipe.targetParameters.inputTemplate).toBe(outboxBusTemplate());
    expect(pipe.targetParameters.inputTemplate).not.toMatch(/NewImage>|NewImage\.event>|\.data/);
    expect(pipe.targetParameters.eventbridgeEventBusParameters).toEqual(OUTBOX_BUS_EVENT);
    expect(OUTBOX_BUS_EVENT).toEqual({ source: "dvss", detailType: "dvss.state.changed" });
    expect(stream.deadLetterConfig).toEqual({ arn: "OutboxPipeDeadLetters.arn" });
    expect(stream.maximumRetryAttempts).toBeGreaterThan(0);
    expect(stream.maximumRetryAttempts).toBeLessThanOrEqual(10);
    expect(stream.onPartialBatchItemFailure).toBe("AUTOMATIC_BISECT");
    expect(deadLetters.messageRetentionSeconds).toBe(14 * 24 * 3600);
    expect(deadLetters.sqsManagedSseEnabled).toBe(true);
  });

  it("alarms when a batch is dead-lettered, where the stage has alarms", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const alarm = sst.one("aws.cloudwatch.MetricAlarm", "OutboxDeadLettersAlarm").args;

    // assess
    expect(alarm).toMatchObject({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: "OutboxPipeDeadLetters.name" },
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      alarmActions: ["Alerts.arn"],
    });
  });
});

describe("the wait before the pipe", () => {
  it("lasts its seconds when created, and is replaced (waits again) only when a trigger changes", async () => {
    // prepare
    vi.useFakeTimers();
    const inputs = { seconds: 120, triggers: { stream: "arn:1", policy: "{}" } };

    try {
      // act
      let created = false;
      const creating = WAIT_PROVIDER.create(inputs).then(() => {
        created = true;
      });
      await vi.advanceTimersByTimeAsync(119_000);
      const before = created;
      await vi.advanceTimersByTimeAsync(1_000);
      await creating;

      // assess
      expect(before).toBe(false);
      expect(created).toBe(true);
      expect(await WAIT_PROVIDER.diff("id", inputs, { ...inputs })).toMatchObject({ changes: false });
      expect(
        await WAIT_PROVIDER.diff("id", inputs, {
          ...inputs,
          triggers: { ...inputs.triggers, stream: "arn:2" },
        }),
      ).toMatchObject({ changes: true, replaces: ["triggers"] });
    } finally {
      vi.useRealTimers();
    }
  });

  it.skipIf(!existsSync(PULUMI_CLOSURE))(
    "survives Pulumi's serialization of dynamic providers, as a deploy ships it",
    async () => {
      // prepare: the serializer SST's Pulumi runs over a dynamic resource's provider
      const { serializeFunction } = createRequire(PULUMI_CLOSURE)(PULUMI_CLOSURE) as {
        serializeFunction(f: () => unknown, args: object): Promise<{ text: string; exportName: string }>;
      };
      const provider = WAIT_PROVIDER;

      // act
      const serialized = await serializeFunction(() => provider, { allowSecrets: false });
      const module: { exports: Record<string, () => typeof WAIT_PROVIDER> } = { exports: {} };
      new Function("exports", "require", "module", serialized.text)(module.exports, require, module);
      const shipped = module.exports[serialized.exportName]?.() as typeof WAIT_PROVIDER;

      // assess
      const started = Date.now();
      const created = await shipped.create({ seconds: 0.05, triggers: { a: "1" } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
      expect(created.outs).toEqual({ seconds: 0.05, triggers: { a: "1" } });
      expect(await shipped.diff("id", created.outs, { seconds: 0.05, triggers: { a: "2" } })).toMatchObject({
        replaces: ["triggers"],
      });
    },
  );
});

describe("storage", () => {
  it("declares every core table with its shared keys, indexes, TTL and stream", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const tables = new Map(sst.all("sst.aws.Dynamo").map((t) => [t.name, t.args]));

    // assess
    expect([...tables.keys()].sort()).toEqual([...TABLE_NAMES].sort());
    for (const name of TABLE_NAMES) {
      const definition = TABLES[name];
      expect(tables.get(name)).toMatchObject({
        fields: definition.fields,
        primaryIndex: definition.primaryIndex,
        globalIndexes: definition.globalIndexes,
        deletionProtection: true,
      });
      expect(tables.get(name)?.ttl).toBe(definition.ttl);
      // Nothing DVSS keeps in DynamoDB expires: idempotency records above all (deploy.md, "Retention").
      expect(tables.get(name)?.ttl, name).toBeUndefined();
      expect(tables.get(name)?.stream).toBe(definition.stream);
    }
    expect(tables.get("Outbox")?.stream).toBe("new-image");
  });

  it("hardens both buckets: no public access, TLS only, encrypted at rest", () => {
    // prepare
    const { sst } = evaluate("dev");

    // act
    const buckets = BUCKET_NAMES.map((name) => ({
      name,
      args: sst.one("sst.aws.Bucket", name).args,
      encryption: sst.one("aws.s3.BucketServerSideEncryptionConfiguration", `${name}Encryption`).args,
    }));

    // assess
    for (const { name, args, encryption } of buckets) {
      expect(args.access, name).toBeUndefined();
      expect(args.public, name).toBeUndefined();
      expect(args.enforceHttps, name).toBe(true);
      expect(args.transform.publicAccessBlock, name).toEqual({
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      expect(encryption.bucket).toBe(`${name}.name`);
      expect(["AES256", "aws:kms"]).toContain(
        encryption.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm,
      );
    }
  });

  it("keeps the raw archive: versioned, never force-destroyed, old versions expired by lifecycle", () => {
    // prepare
    const { sst } = evaluate("dev");

    // act
    const raw = sst.one("sst.aws.Bucket", "RawBucket").args;
    const lifecycle = sst.one("aws.s3.BucketLifecycleConfiguration", "RawBucketLifecycle").args;

    // assess
    expect(raw.versioning).toBe(true);
    expect(raw.transform.bucket.forceDestroy).toBe(false);
    expect(lifecycle.bucket).toBe("RawBucket.name");
    expect(lifecycle.rules[0]).toMatchObject({
      status: "Enabled",
      noncurrentVersionExpiration: { noncurrentDays: 7 },
    });
    expect(sst.all("aws.s3.BucketObjectLockConfiguration")).toEqual([]);
  });

  it("puts the raw bucket under Object Lock where the stage enables it, once versioning is on", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const raw = sst.one("sst.aws.Bucket", "RawBucket");
    const lock = sst.one("aws.s3.BucketObjectLockConfiguration", "RawBucketObjectLock");

    // assess: S3 enables Object Lock on an existing bucket through this configuration, and only on a
    // versioned one; the bucket component creates its versioning with the bucket.
    expect(raw.args.versioning).toBe(true);
    expect(lock.args).toEqual({
      bucket: "RawBucket.name",
      objectLockEnabled: "Enabled",
      rule: { defaultRetention: { mode: "GOVERNANCE", days: 365 } },
    });
    expect((lock.opts as { dependsOn: unknown[] }).dependsOn.map((d) => FakeSst.recordOf(d).name)).toEqual([
      "RawBucket",
    ]);
  });

  it("turns Object Lock on for an existing stage without replacing the raw bucket", () => {
    // prepare
    const locked: StageSettings = {
      ...stageSettings("staging"),
      rawObjectLock: { enabled: true, retentionDays: 30 },
    };

    // act
    const before = evaluate("staging").sst;
    const after = evaluate("staging", locked).sst;

    // assess: objectLockEnabled on the bucket itself forces a new bucket (an empty one, and the
    // archive orphaned), as would a new name; flipping the setting changes neither.
    const bucketArgs = (sst: FakeSst) => sst.one("sst.aws.Bucket", "RawBucket").args;
    expect(bucketArgs(after)).toEqual(bucketArgs(before));
    for (const forcesNew of ["objectLockEnabled", "bucket", "bucketPrefix"]) {
      expect(bucketArgs(after).transform.bucket, forcesNew).not.toHaveProperty(forcesNew);
    }
    expect(before.all("aws.s3.BucketObjectLockConfiguration")).toEqual([]);
    expect(after.one("aws.s3.BucketObjectLockConfiguration", "RawBucketObjectLock").args.rule).toEqual({
      defaultRetention: { mode: "GOVERNANCE", days: 30 },
    });
  });

  it("locks only the buckets whose every PutObject carries a checksum (OBJECT_LOCK_BUCKETS)", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const locked = sst
      .all("aws.s3.BucketObjectLockConfiguration")
      .filter((lock) => lock.args.objectLockEnabled === "Enabled" && lock.args.rule?.defaultRetention)
      .map((lock) => String(lock.args.bucket).replace(/\.name$/, ""));

    // assess: S3 refuses a PutObject without Content-MD5 or x-amz-checksum-* into a bucket with a
    // default retention; the ingest's raw write names CRC32, and the local S3 enforces the rule for these.
    expect(locked).toEqual([...OBJECT_LOCK_BUCKETS]);
    expect(
      sst
        .all("sst.aws.Bucket")
        .filter((bucket) => "objectLockEnabled" in (bucket.args.transform?.bucket ?? {})),
    ).toEqual([]);
  });
});

describe("API, schedule and alarms", () => {
  it("routes every contract route to its handler's function, with stage throttling and access logs", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const api = sst.one("sst.aws.ApiGatewayV2", "Api");
    const routes = api.calls
      .filter((call) => call.method === "route")
      .map((call) => [call.args[0], call.args[1]]);
    const functions = functionsOf(sst);

    // assess
    expect(routes).toEqual(
      ROUTES.map((route) => [`${route.method} ${route.path}`, `${route.functionName}.arn`]),
    );
    for (const route of ROUTES) expect(functions.get(route.functionName)?.args.handler).toBe(route.handler);
    expect(api.args.transform.stage.defaultRouteSettings).toEqual({
      throttlingRateLimit: 300,
      throttlingBurstLimit: 600,
    });
    expect(api.args.accessLog).toEqual({ retention: "1 year" });
  });

  it("runs the reconciler on a schedule", () => {
    // prepare
    const { sst } = evaluate("dev");

    // act
    const schedule = sst.one("sst.aws.CronV2", "ReconcilerSchedule").args;

    // assess
    expect(schedule).toEqual({ function: "Reconciler.arn", schedule: "rate(5 minutes)" });
    expect(functionsOf(sst).get("Reconciler")?.args.handler).toBe(
      "packages/functions/src/reconciler.handler",
    );
  });

  it("gives every function the stage's feed shard count", () => {
    // prepare
    const sharded: StageSettings = { ...stageSettings("dev"), feedShards: 4 };

    // act
    const shardsOf = (sst: FakeSst) =>
      new Set([...functionsOf(sst).values()].map((fn) => fn.args.environment.DVSS_FEED_SHARDS));

    // assess: the state task and the feed route must agree on it
    expect(shardsOf(evaluate("dev").sst)).toEqual(new Set(["1"]));
    expect(shardsOf(evaluate("dev", sharded).sst)).toEqual(new Set(["4"]));
    expect(stageSettings("production").feedShards).toBe(1);
  });

  it("sets every function's Lambda system and application log levels by stage, the application level its logger's", () => {
    // prepare: the logging configuration SST builds from `logging` (format and group, no levels)
    const built = { logFormat: "JSON", logGroup: "FunctionLogs.name" };
    const loggingConfigOf = (fn: FakeSst["resources"][number]) => {
      const args = { loggingConfig: { ...built } };
      fn.args.transform.function(args);
      return args.loggingConfig;
    };
    const levelsOf = (stage: string) =>
      new Set(
        [...functionsOf(evaluate(stage).sst).values()].map((fn) => {
          expect(fn.args.logging.format).toBe("json");
          return JSON.stringify(loggingConfigOf(fn));
        }),
      );
    const levels = (systemLogLevel: string, applicationLogLevel: string) =>
      new Set([JSON.stringify({ ...built, logFormat: "JSON", systemLogLevel, applicationLogLevel })]);
    const loggerLevelsOf = (stage: string) =>
      new Set(
        [...functionsOf(evaluate(stage).sst).values()].map((fn) => fn.args.environment.POWERTOOLS_LOG_LEVEL),
      );

    // act, assess: no START, END and REPORT lines where the stage says WARN; the tasks' input and
    // state lines (DEBUG) only in development
    expect(levelsOf("production")).toEqual(levels("WARN", "INFO"));
    expect(levelsOf("staging")).toEqual(levels("WARN", "INFO"));
    expect(levelsOf("pr-123")).toEqual(levels("INFO", "DEBUG"));
    expect(loggerLevelsOf("production")).toEqual(new Set(["INFO"]));
    expect(loggerLevelsOf("staging")).toEqual(new Set(["INFO"]));
    expect(loggerLevelsOf("pr-123")).toEqual(new Set(["DEBUG"]));
    expect(FUNCTION_ENVIRONMENT).not.toHaveProperty("POWERTOOLS_LOG_LEVEL");
    // The levels the cost model prices by default (its application log bytes are measured at INFO).
    expect(STAGES.production.functionSystemLogLevel).toBe(PRODUCTION_LAMBDA_SYSTEM_LOG_LEVEL);
    expect(STAGES.production.functionApplicationLogLevel).toBe("INFO");
  });

  it("refuses a stage whose application log level is above INFO", () => {
    // prepare: a stage set to WARN, which the type allows no more than a cast does
    const quiet = {
      ...stageSettings("production"),
      functionApplicationLogLevel: "WARN",
    } as unknown as StageSettings;

    // act, assess
    expect(() => evaluate("production", quiet)).toThrow(/would have Lambda drop the metric lines/);
  });

  it("refuses an application log level at which Lambda would drop the metric lines", () => {
    // act, assess: EMF lines carry no level, and Lambda counts them as INFO
    expect(() => functionLogLevels("WARN", "WARN")).toThrow(/would have Lambda drop the metric lines/);
    expect(() => functionLogLevels("WARN", "DEBUG")).not.toThrow();
  });

  it("has the reconciler wait out the longest execution of the stage's workflow before restarting an event", () => {
    // prepare
    const standard: StageSettings = { ...stageSettings("dev"), workflowType: "STANDARD" };

    // act
    const afterSeconds = (sst: FakeSst) =>
      functionsOf(sst).get("Reconciler")?.args.environment.DVSS_RECONCILE_AFTER_SECONDS;
    const express = afterSeconds(evaluate("dev").sst);
    const slow = afterSeconds(evaluate("dev", standard).sst);

    // assess: an Express execution runs up to 5 minutes (ApplyState alone may retry for ~20);
    // restarted sooner, an event would run twice at once
    const definition = buildNormalizeDefinition((task) => task);
    expect(express).toBe(String(reconcileAfterSeconds(definition, "EXPRESS")));
    expect(Number(express)).toBeGreaterThan(EXPRESS_MAX_SECONDS);
    expect(slow).toBe(String(reconcileAfterSeconds(definition, "STANDARD")));
  });

  it("alarms on quarantine rate, reconciler backlog, failed executions, ingest 5xx and throttles, dead-lettered outbox batches in production", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const alarms = new Map(sst.all("aws.cloudwatch.MetricAlarm").map((alarm) => [alarm.name, alarm.args]));

    // assess
    expect([...alarms.keys()].sort()).toEqual(
      [
        "DriftBreakingAlarm",
        "FailedExecutionsAlarm",
        "FeedCapacityAlarm",
        "Ingest5xxAlarm",
        "IngestThrottlesAlarm",
        "OutboxDeadLettersAlarm",
        "OutboxWriteThrottlesAlarm",
        "QuarantineRateAlarm",
        ...deployedVendorIds().map((vendorId) => `QuarantineRateAlarm-${vendorId}`),
        "ReconcilerBacklogAlarm",
      ].sort(),
    );
    const quarantine = alarms.get("QuarantineRateAlarm");
    expect(quarantine.metricQueries[0].metric).toMatchObject({
      namespace: "dvss",
      metricName: "dvss.normalize.failed",
      dimensions: { service: "dvss" },
    });
    // Per vendor: the same rate over the vendor's own series (the vendorId dimension set).
    const vendorB = alarms.get("QuarantineRateAlarm-vendorB");
    expect(vendorB.metricQueries.map((query: { metric?: unknown }) => query.metric)).toEqual([
      expect.objectContaining({
        metricName: "dvss.normalize.failed",
        dimensions: { service: "dvss", vendorId: "vendorB" },
      }),
      expect.objectContaining({
        metricName: "dvss.normalize.success",
        dimensions: { service: "dvss", vendorId: "vendorB" },
      }),
      undefined,
    ]);
    expect(vendorB.metricQueries[2].expression).toBe(quarantine.metricQueries[2].expression);
    expect(vendorB.threshold).toBe(quarantine.threshold);
    expect(alarms.get("FailedExecutionsAlarm").metricQueries[0].metric.dimensions).toEqual({
      StateMachineArn: "Normalize.arn",
    });
    expect(alarms.get("DriftBreakingAlarm")).toMatchObject({
      metricName: "dvss.drift.detected",
      dimensions: { service: "dvss", severity: "breaking" },
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
    });
    expect(alarms.get("IngestThrottlesAlarm").dimensions).toEqual({ FunctionName: "IngestApi.name" });
    expect(alarms.get("Ingest5xxAlarm").dimensions).toEqual({ ApiId: "Api.nodes.api.id", Stage: "$default" });
    for (const alarm of alarms.values()) expect(alarm.alarmActions).toEqual(["Alerts.arn"]);
  });

  it("throttles production to what the feed's one partition sustains, and alarms before it is reached", () => {
    // prepare
    const { sst } = evaluate("production");
    const partition = FEED_PARTITION;

    // act
    const throttle = sst.one("sst.aws.ApiGatewayV2", "Api").args.transform.stage.defaultRouteSettings;
    const capacity = sst.one("aws.cloudwatch.MetricAlarm", "FeedCapacityAlarm").args;
    const throttled = sst.one("aws.cloudwatch.MetricAlarm", "OutboxWriteThrottlesAlarm").args;

    // assess: every accepted request can become a change entry (and a gap) in one partition,
    // which DynamoDB caps at 1,000 write units per second.
    expect(partition.writeUnitsPerSecond).toBe(1000);
    for (const stage of Object.keys(STAGES)) {
      const { apiThrottling, feedShards } = stageSettings(stage);
      expect(apiThrottling.rateLimit * partition.writeUnitsPerEvent, stage).toBeLessThanOrEqual(
        partition.writeUnitsPerSecond * feedShards,
      );
    }
    expect(throttle.throttlingRateLimit).toBe(FEED_EVENTS_PER_SECOND - (FEED_EVENTS_PER_SECOND % 100));
    expect(capacity).toMatchObject({
      metricName: "dvss.normalize.success",
      namespace: "dvss",
      period: 300,
      statistic: "Sum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: Math.floor(0.8 * FEED_EVENTS_PER_SECOND * 300),
    });
    expect(throttled).toMatchObject({
      namespace: "AWS/DynamoDB",
      metricName: "WriteThrottleEvents",
      dimensions: { TableName: "Outbox.name" },
      threshold: 1,
    });
  });

  it("alarms per vendor for each folder under schemas/vendors with a vendor.json", () => {
    // prepare: a vendor, and a folder that is not one
    const dir = mkdtempSync(join(tmpdir(), "dvss-vendors-"));
    mkdirSync(join(dir, "vendorZ"));
    writeFileSync(join(dir, "vendorZ", "vendor.json"), "{}");
    mkdirSync(join(dir, "notes"));

    // act
    const vendorIds = deployedVendorIds(dir);

    // assess
    expect(vendorIds).toEqual(["vendorZ"]);
    expect(deployedVendorIds()).toEqual(expect.arrayContaining(["vendorA", "vendorB"]));
  });

  it("has no alarms on a development stage", () => {
    // prepare and act
    const { sst } = evaluate("pr-42");

    // assess
    expect(sst.all("aws.cloudwatch.MetricAlarm")).toEqual([]);
    expect(sst.all("sst.aws.SnsTopic")).toEqual([]);
  });
});

describe("sst.config.ts", () => {
  async function loadConfig() {
    new FakeSst().install("dev");
    const config = (await import("../../sst.config.ts")).default as unknown as {
      app(input: { stage: string }): Promise<Record<string, unknown>>;
      run(): Promise<Record<string, unknown>>;
    };
    return config;
  }

  it("retains and protects production, retains staging, removes everything else", async () => {
    // prepare
    const config = await loadConfig();

    // act
    const [production, staging, dev] = await Promise.all(
      ["production", "staging", "dev"].map((stage) => config.app({ stage })),
    );

    // assess
    expect(production).toEqual({ name: "dvss", home: "aws", removal: "retain", protect: true });
    expect(staging).toMatchObject({ removal: "retain", protect: false });
    expect(dev).toMatchObject({ removal: "remove", protect: false });
  });

  it("runs the stacks and returns the API URL, bucket and table names and the state machine ARN", async () => {
    // prepare
    const config = await loadConfig();

    // act
    const outputs = await config.run();

    // assess
    expect(outputs).toEqual({
      api: "Api.url",
      rawBucket: "RawBucket.name",
      normalizedBucket: "NormalizedBucket.name",
      tables: Object.fromEntries(TABLE_NAMES.map((name) => [name, `${name}.name`])),
      normalizeStateMachine: "Normalize.arn",
      outboxBus: "OutboxBus.name",
    });
  });
});
