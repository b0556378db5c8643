import { ROUTES } from "@dvss/core/routes";
import { BUCKET_NAMES, OBJECT_LOCK_BUCKETS, TABLE_NAMES, TABLES } from "@dvss/core/tables";
import { buildNormalizeDefinition, TASK_NAMES, WORKFLOW_TASKS } from "@dvss/core/workflow";
import { describe, expect, it } from "vitest";
import { deployStage } from "../../stacks/index.ts";
import { type StageSettings, stageSettings } from "../../stacks/settings.ts";
import { FakeSst } from "./sst-fake.ts";

/** Evaluates the stacks of one stage against recording stand-ins of SST's globals. */
function evaluate(stage: string, settings?: StageSettings) {
  const sst = new FakeSst().install(stage);
  const outputs = deployStage(stage, settings);
  return { sst, outputs };
}

interface Statement {
  actions: string[];
  resources: string[];
}

/** Statements as "action on resource" pairs: grouping may change, what is allowed may not. */
function grants(statements: Statement[]): string[] {
  return statements.flatMap((s) => s.actions.flatMap((a) => s.resources.map((r) => `${a} on ${r}`))).sort();
}

const table = (name: string) => [`${name}.arn`];
const objects = (bucket: string) => [`${bucket}.arn/*`];
/** Reads: items of the table, and queries of its indexes. */
const reads = (name: string, ...writes: string[]): Statement[] => [
  { actions: ["dynamodb:GetItem", "dynamodb:Query", ...writes], resources: table(name) },
  { actions: ["dynamodb:Query"], resources: [`${name}.arn/index/*`] },
];

/** The least-privilege contract: what each function may do. A wider grant fails this test. */
const EXPECTED_PERMISSIONS: Record<string, Statement[]> = {
  IngestApi: [
    ...reads("Vendors"),
    ...reads("IngestRecords", "dynamodb:PutItem"),
    { actions: ["dynamodb:PutItem"], resources: table("Divergence") },
    { actions: ["s3:PutObject", "s3:DeleteObject"], resources: objects("RawBucket") },
    { actions: ["states:StartExecution"], resources: ["Normalize.arn"] },
  ],
  EventsApi: [...reads("Vendors"), ...reads("IngestRecords")],
  ConsumerApi: [...reads("Vendors"), ...reads("CanonicalState"), ...reads("Outbox", "dynamodb:PutItem")],
  HealthApi: [...reads("Vendors"), { actions: ["s3:ListBucket"], resources: ["RawBucket.arn"] }],
  ValidateTask: [
    ...reads("Vendors"),
    { actions: ["s3:GetObject"], resources: objects("RawBucket") },
    { actions: ["s3:ListBucket"], resources: ["RawBucket.arn"] },
  ],
  MapTask: [
    ...reads("Vendors"),
    { actions: ["s3:GetObject"], resources: objects("RawBucket") },
    { actions: ["s3:ListBucket"], resources: ["RawBucket.arn"] },
  ],
  WriteNormalizedTask: [
    ...reads("Vendors"),
    { actions: ["s3:GetObject"], resources: objects("RawBucket") },
    { actions: ["s3:ListBucket"], resources: ["RawBucket.arn"] },
    { actions: ["s3:PutObject"], resources: objects("NormalizedBucket") },
  ],
  ApplyStateTask: [
    ...reads("Vendors"),
    ...reads("CanonicalState", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    { actions: ["dynamodb:PutItem"], resources: table("Divergence") },
    ...reads("Outbox", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    { actions: ["s3:GetObject"], resources: objects("NormalizedBucket") },
    { actions: ["s3:ListBucket"], resources: ["NormalizedBucket.arn"] },
  ],
  UpdateStatusTask: [
    ...reads("IngestRecords", "dynamodb:UpdateItem"),
    ...reads("Quarantine", "dynamodb:UpdateItem"),
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

  it("switches the same definition to STANDARD when the stage says so", () => {
    // prepare
    const settings: StageSettings = { ...stageSettings("dev"), workflowType: "STANDARD" };

    // act
    const { sst } = evaluate("dev", settings);

    // assess
    const machine = sst.one("aws.sfn.StateMachine", "Normalize");
    expect(machine.args.type).toBe("STANDARD");
    expect(JSON.parse(machine.args.definition).StartAt).toBe("Validate");
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
    expect(bundlingDefinitions).toEqual(["Validate", "Map", "WriteNormalized"]);
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
      ]),
    );
    expect(pipe.args).toMatchObject({ source: "Outbox.nodes.table.streamArn", target: "OutboxBus.arn" });
  });
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

  it("puts the raw bucket under Object Lock where the stage enables it", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const raw = sst.one("sst.aws.Bucket", "RawBucket").args;
    const lock = sst.one("aws.s3.BucketObjectLockConfiguration", "RawBucketObjectLock").args;

    // assess
    expect(raw.transform.bucket).toEqual({ forceDestroy: false, objectLockEnabled: true });
    expect(lock).toMatchObject({
      bucket: "RawBucket.name",
      rule: { defaultRetention: { mode: "GOVERNANCE", days: 365 } },
    });
  });

  it("locks only the buckets whose every PutObject carries a checksum (OBJECT_LOCK_BUCKETS)", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const locked = sst
      .all("sst.aws.Bucket")
      .filter((bucket) => bucket.args.transform.bucket.objectLockEnabled)
      .map((bucket) => bucket.name);
    const retained = sst
      .all("aws.s3.BucketObjectLockConfiguration")
      .filter((lock) => lock.args.rule?.defaultRetention)
      .map((lock) => String(lock.args.bucket).replace(/\.name$/, ""));

    // assess: S3 refuses a PutObject without Content-MD5 or x-amz-checksum-* into a bucket with a
    // default retention; the ingest's raw write names CRC32, and the local S3 enforces the rule for these.
    expect(locked).toEqual([...OBJECT_LOCK_BUCKETS]);
    expect(retained).toEqual([...OBJECT_LOCK_BUCKETS]);
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
      throttlingRateLimit: 1000,
      throttlingBurstLimit: 2000,
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

  it("alarms on quarantine rate, reconciler backlog, failed executions, ingest 5xx and throttles in production", () => {
    // prepare
    const { sst } = evaluate("production");

    // act
    const alarms = new Map(sst.all("aws.cloudwatch.MetricAlarm").map((alarm) => [alarm.name, alarm.args]));

    // assess
    expect([...alarms.keys()].sort()).toEqual([
      "FailedExecutionsAlarm",
      "Ingest5xxAlarm",
      "IngestThrottlesAlarm",
      "QuarantineRateAlarm",
      "ReconcilerBacklogAlarm",
    ]);
    const quarantine = alarms.get("QuarantineRateAlarm");
    expect(quarantine.metricQueries[0].metric).toMatchObject({
      namespace: "dvss",
      metricName: "dvss.normalize.failed",
    });
    expect(alarms.get("FailedExecutionsAlarm").metricQueries[0].metric.dimensions).toEqual({
      StateMachineArn: "Normalize.arn",
    });
    expect(alarms.get("IngestThrottlesAlarm").dimensions).toEqual({ FunctionName: "IngestApi.name" });
    expect(alarms.get("Ingest5xxAlarm").dimensions).toEqual({ ApiId: "Api.nodes.api.id", Stage: "$default" });
    for (const alarm of alarms.values()) expect(alarm.alarmActions).toEqual(["Alerts.arn"]);
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
