import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "@dvss/core/errors";
import type { Target } from "@dvss/core/ops/context";
import { BUCKET_NAMES, type BucketName, TABLE_NAMES, type TableName } from "@dvss/core/tables";
import { NORMALIZE_STATE_MACHINE } from "@dvss/core/workflow";
import { localDataDir } from "@dvss/local/clients";
import { type LocalEndpointsFile, targetOfLocalEndpoints } from "@dvss/local/target";

/**
 * Which DVSS the CLI talks to (a Target, packages/core/src/ops/context.ts). Local: the runtime
 * `npm start` runs, found through `<DVSS_DATA_DIR or ./.dvss>/endpoints.json`. A stage: the
 * deployed resources, from the environment `sst shell --stage <name>` sets (SST_RESOURCE_*) or
 * from `.sst/outputs.json`.
 */

/** The repository the CLI runs from: its `schemas/vendors` is the bundled definitions folder. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

/** SST app name (sst.config.ts): deployed names are `<app>-<stage>-...`. */
const APP_NAME = "dvss";

type Env = Record<string, string | undefined>;

/** The vendor definitions the local workflow reads, when endpoints.json does not say. */
function bundledVendorsDir(env: Env, cwd: string): string {
  return env.DVSS_VENDORS_DIR ? resolve(cwd, env.DVSS_VENDORS_DIR) : join(REPO_ROOT, "schemas/vendors");
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new UsageError(`${what} cannot be read: ${(cause as Error).message}`, { cause });
  }
}

export function localTarget(env: Env, cwd: string): Target {
  const dataDir = localDataDir(env, cwd);
  const file = join(dataDir, "endpoints.json");
  if (!existsSync(file)) {
    throw new UsageError(
      `No local runtime found: ${file} does not exist. Start one with \`npm start\` (it writes that file), ` +
        "set DVSS_DATA_DIR to its data directory, or pass --stage <name> for a deployed stage.",
    );
  }
  return targetOfLocalEndpoints(
    readJson(file, file) as LocalEndpointsFile,
    file,
    bundledVendorsDir(env, cwd),
  );
}

/** `arn:aws:states:<region>:<account>:stateMachine:<name>` → region and name. */
function parseStateMachineArn(arn: string, where: string): { region: string; name: string } {
  const match = /^arn:aws[\w-]*:states:([a-z0-9-]+):\d+:stateMachine:(.+)$/.exec(arn);
  if (!match?.[1] || !match[2]) throw new UsageError(`${where}: "${arn}" is not a state machine ARN`);
  return { region: match[1], name: match[2] };
}

function stageTarget(
  stage: string,
  names: Omit<Target, "kind" | "stage" | "region" | "vendorsDir" | "executionLogGroup">,
  env: Env,
  cwd: string,
): Target {
  const machine = parseStateMachineArn(names.stateMachineArn, names.resolvedFrom);
  const expected = `${APP_NAME}-${stage}-${NORMALIZE_STATE_MACHINE}`;
  if (machine.name !== expected) {
    throw new UsageError(
      `${names.resolvedFrom} describes state machine ${machine.name}, not stage "${stage}" (${expected}). ` +
        `Deploy or select that stage: \`npx sst shell --stage ${stage} -- npx dvss ... --stage ${stage}\`.`,
    );
  }
  return {
    kind: "stage",
    stage,
    region: machine.region,
    ...names,
    vendorsDir: bundledVendorsDir(env, cwd),
    executionLogGroup: `/aws/vendedlogs/states/${expected}`,
  };
}

/** Names from `sst shell --stage <name>`: SST_RESOURCE_<Name> = {"name": ...} for each linked resource. */
function fromSstEnvironment(stage: string, env: Env, cwd: string): Target | undefined {
  if (!env.SST_RESOURCE_App) return undefined;
  const resource = (name: string): Record<string, string> | undefined => {
    const value = env[`SST_RESOURCE_${name}`];
    if (!value) return undefined;
    try {
      return JSON.parse(value) as Record<string, string>;
    } catch {
      throw new UsageError(`SST_RESOURCE_${name} is not JSON`);
    }
  };
  const app = resource("App");
  if (app?.stage !== stage) {
    throw new UsageError(
      `The SST environment is stage "${app?.stage}", not "${stage}": run the CLI under \`npx sst shell --stage ${stage}\`.`,
    );
  }
  const missing: string[] = [];
  const nameOf = (name: string, property = "name") => {
    const value = resource(name)?.[property];
    if (!value) missing.push(`SST_RESOURCE_${name}`);
    return value ?? "";
  };
  const tables = Object.fromEntries(TABLE_NAMES.map((name) => [name, nameOf(name)])) as Record<
    TableName,
    string
  >;
  const buckets = Object.fromEntries(BUCKET_NAMES.map((name) => [name, nameOf(name)])) as Record<
    BucketName,
    string
  >;
  const stateMachineArn = nameOf(NORMALIZE_STATE_MACHINE, "arn");
  if (missing.length > 0) throw new UsageError(`The SST environment lacks ${missing.join(", ")}`);
  return stageTarget(
    stage,
    { tables, buckets, stateMachineArn, resolvedFrom: "SST_RESOURCE_* (sst shell)" },
    env,
    cwd,
  );
}

/** The outputs `sst deploy` writes (stacks/index.ts returns them). */
interface StageOutputs {
  api?: string;
  rawBucket?: string;
  normalizedBucket?: string;
  tables?: Partial<Record<TableName, string>>;
  normalizeStateMachine?: string;
}

function fromSstOutputs(stage: string, env: Env, cwd: string): Target | undefined {
  const file = join(cwd, ".sst/outputs.json");
  if (!existsSync(file)) return undefined;
  const outputs = readJson(file, file) as StageOutputs;
  const missing = [
    ...TABLE_NAMES.filter((name) => !outputs.tables?.[name]).map((name) => `tables.${name}`),
    ...(["rawBucket", "normalizedBucket", "normalizeStateMachine"] as const).filter((key) => !outputs[key]),
  ];
  if (missing.length > 0) throw new UsageError(`${file} lacks ${missing.join(", ")}`);
  return stageTarget(
    stage,
    {
      tables: outputs.tables as Record<TableName, string>,
      buckets: { RawBucket: outputs.rawBucket ?? "", NormalizedBucket: outputs.normalizedBucket ?? "" },
      stateMachineArn: outputs.normalizeStateMachine ?? "",
      ...(outputs.api && { api: outputs.api }),
      resolvedFrom: file,
    },
    env,
    cwd,
  );
}

/**
 * A deployed stage's names: from `sst shell --stage <stage>` (SST_RESOURCE_*) when present, else
 * from `.sst/outputs.json` (written by `sst deploy --stage <stage>`). Either must name this stage's
 * state machine, so a shell or outputs file of another stage is refused rather than used.
 * Credentials and region are the AWS SDK's usual ones (AWS_PROFILE, AWS_REGION, ...).
 */
export function resolveStageTarget(stage: string, env: Env, cwd: string): Target {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(stage)) throw new UsageError(`--stage "${stage}" is not a stage name`);
  const target = fromSstEnvironment(stage, env, cwd) ?? fromSstOutputs(stage, env, cwd);
  if (!target) {
    throw new UsageError(
      `No names for stage "${stage}": run the CLI under \`npx sst shell --stage ${stage} -- npx dvss ...\`, ` +
        `or from the folder holding .sst/outputs.json of \`npx sst deploy --stage ${stage}\`.`,
    );
  }
  return target;
}

export function resolveTarget(options: { stage?: string | undefined; env: Env; cwd: string }): Target {
  return options.stage === undefined
    ? localTarget(options.env, options.cwd)
    : resolveStageTarget(options.stage, options.env, options.cwd);
}
