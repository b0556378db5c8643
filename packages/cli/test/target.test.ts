import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TABLE_NAMES } from "@dvss/core/tables";
import { LOCAL_CREDENTIALS } from "@dvss/local/clients";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../local/test/harness.ts";
import { bufferIo, colorWanted, paint } from "../src/io.ts";
import { runCli } from "../src/main.ts";
import { localTarget, resolveTarget } from "../src/target.ts";

// What `sst shell --stage prod` puts in the environment (names as SST's physical names look).
const ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:dvss-prod-Normalize";
const sstEnvironment = (stage = "prod") => ({
  SST_RESOURCE_App: JSON.stringify({ name: "dvss", stage }),
  ...Object.fromEntries(
    TABLE_NAMES.map((name) => [
      `SST_RESOURCE_${name}`,
      JSON.stringify({ name: `dvss-${stage}-${name}Table-abc123` }),
    ]),
  ),
  SST_RESOURCE_RawBucket: JSON.stringify({ name: `dvss-${stage}-rawbucket-abc123` }),
  SST_RESOURCE_NormalizedBucket: JSON.stringify({ name: `dvss-${stage}-normalizedbucket-abc123` }),
  SST_RESOURCE_Normalize: JSON.stringify({
    name: `dvss-${stage}-Normalize`,
    arn: ARN.replace("prod", stage),
  }),
});

/** What `sst deploy --stage prod` writes to .sst/outputs.json (stacks/index.ts's outputs). */
function writeOutputs(cwd: string, arn = ARN): void {
  mkdirSync(join(cwd, ".sst"), { recursive: true });
  writeFileSync(
    join(cwd, ".sst/outputs.json"),
    JSON.stringify({
      api: "https://abc.execute-api.eu-west-1.amazonaws.com",
      rawBucket: "dvss-prod-rawbucket-abc123",
      normalizedBucket: "dvss-prod-normalizedbucket-abc123",
      tables: Object.fromEntries(TABLE_NAMES.map((name) => [name, `dvss-prod-${name}Table-abc123`])),
      normalizeStateMachine: arn,
      outboxBus: "dvss-prod-OutboxBus",
    }),
  );
}

describe("which DVSS the CLI talks to", () => {
  it("finds the local runtime through DVSS_DATA_DIR/endpoints.json, as npm start writes it", () => {
    const dataDir = tempDir("dvss-target-");
    writeFileSync(
      join(dataDir, "endpoints.json"),
      JSON.stringify({
        api: "http://127.0.0.1:4000",
        dynamodb: "http://127.0.0.1:1",
        s3: "http://127.0.0.1:2",
        sfn: "http://127.0.0.1:3",
        region: "us-east-1",
        stateMachineArn: "arn:aws:states:us-east-1:000000000000:stateMachine:dvss-local-Normalize",
        tables: { IngestRecords: "dvss-local-IngestRecords" },
        buckets: { RawBucket: "dvss-local-raw" },
        vendorsDir: "/somewhere/vendors",
      }),
    );

    const target = localTarget({ DVSS_DATA_DIR: dataDir }, "/elsewhere");

    expect(target).toMatchObject({
      kind: "local",
      endpoints: {
        dynamodb: "http://127.0.0.1:1",
        s3: "http://127.0.0.1:2",
        sfn: "http://127.0.0.1:3",
        credentials: LOCAL_CREDENTIALS,
      },
      vendorsDir: "/somewhere/vendors",
    });
  });

  it("takes a stage's names from `sst shell` (SST_RESOURCE_*), its region from the state machine ARN", () => {
    const target = resolveTarget({ stage: "prod", env: sstEnvironment(), cwd: tempDir("dvss-target-") });

    expect(target).toMatchObject({
      kind: "stage",
      stage: "prod",
      region: "eu-west-1",
      stateMachineArn: ARN,
      buckets: { RawBucket: "dvss-prod-rawbucket-abc123" },
      executionLogGroup: "/aws/vendedlogs/states/dvss-prod-Normalize",
    });
    expect(target.tables.Quarantine).toBe("dvss-prod-QuarantineTable-abc123");
    expect(target.endpoints).toBeUndefined();
  });

  it("refuses an `sst shell` of another stage", () => {
    expect(() =>
      resolveTarget({ stage: "prod", env: sstEnvironment("dev"), cwd: tempDir("dvss-target-") }),
    ).toThrow('The SST environment is stage "dev", not "prod"');
  });

  it("reads .sst/outputs.json when there is no sst shell, and refuses one written for another stage", () => {
    const cwd = tempDir("dvss-target-");
    writeOutputs(cwd);
    const other = tempDir("dvss-target-");
    writeOutputs(other, ARN.replace("dvss-prod-", "dvss-dev-"));

    const target = resolveTarget({ stage: "prod", env: {}, cwd });

    expect(target).toMatchObject({
      kind: "stage",
      region: "eu-west-1",
      api: "https://abc.execute-api.eu-west-1.amazonaws.com",
    });
    expect(target.tables.IngestRecords).toBe("dvss-prod-IngestRecordsTable-abc123");
    expect(() => resolveTarget({ stage: "prod", env: {}, cwd: other })).toThrow('not stage "prod"');
  });

  it("exits 2 with directions when neither a local runtime nor the stage's names can be found", async () => {
    const cwd = tempDir("dvss-target-");
    const local = bufferIo({ env: { PATH: process.env.PATH }, cwd });
    const stage = bufferIo({ env: { PATH: process.env.PATH }, cwd });

    const localCode = await runCli(["quarantine", "list"], local);
    const stageCode = await runCli(["quarantine", "list", "--stage", "prod"], stage);

    expect(localCode).toBe(2);
    expect(local.stderr()).toContain("No local runtime found");
    expect(stageCode).toBe(2);
    expect(stage.stderr()).toContain("npx sst shell --stage prod");
  });
});

describe("terminal output", () => {
  it("colours only a terminal, never with NO_COLOR or TERM=dumb, always with FORCE_COLOR", () => {
    expect(colorWanted({}, true)).toBe(true);
    expect(colorWanted({}, false)).toBe(false);
    expect(colorWanted({ NO_COLOR: "1" }, true)).toBe(false);
    expect(colorWanted({ TERM: "dumb" }, true)).toBe(false);
    expect(colorWanted({ FORCE_COLOR: "1" }, false)).toBe(true);
    expect(paint({ color: false }, "red", "x")).toBe("x");
    expect(paint({ color: true }, "red", "x")).toBe("\u001b[31mx\u001b[39m");
  });
});
