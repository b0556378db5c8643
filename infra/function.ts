import type { StageSettings } from "../stacks/settings.ts";
import { ACCESS, type Access, type FunctionName, linksFor, permissionsFor, type Stores } from "./access.ts";

/** Powertools reads these; metrics land in the "dvss" namespace the alarms watch. */
export const FUNCTION_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: "dvss",
  POWERTOOLS_METRICS_NAMESPACE: "dvss",
  POWERTOOLS_LOG_LEVEL: "INFO",
  NODE_OPTIONS: "--enable-source-maps",
};

/** One Lambda function with the project's defaults, linked to and allowed on exactly what ACCESS gives it. */
export function dvssFunction(
  name: FunctionName,
  handler: string,
  settings: StageSettings,
  stores: Stores,
  overrides: Pick<sst.aws.FunctionArgs, "timeout" | "memory" | "copyFiles"> & {
    environment?: Record<string, string>;
  } = {},
) {
  const access: Access | undefined = ACCESS[name];
  // A task or route added in core without its grants in access.ts must not deploy.
  if (!access) throw new Error(`No access declared for function ${name} in infra/access.ts`);
  return new sst.aws.Function(name, {
    handler,
    runtime: "nodejs24.x",
    architecture: "arm64",
    memory: overrides.memory ?? "512 MB",
    timeout: overrides.timeout ?? "30 seconds",
    logging: { format: "json", retention: settings.logRetention },
    environment: {
      ...FUNCTION_ENVIRONMENT,
      // The feed's shard count: the state task writes to them, the feed route reads them.
      DVSS_FEED_SHARDS: String(settings.feedShards),
      ...overrides.environment,
    },
    ...(overrides.copyFiles && { copyFiles: overrides.copyFiles }),
    link: linksFor(access, stores),
    permissions: permissionsFor(access, stores),
  });
}
