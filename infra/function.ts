import type { StageSettings } from "../stacks/settings.ts";
import { ACCESS, type Access, type FunctionName, linksFor, permissionsFor, type Stores } from "./access.ts";

/**
 * Powertools reads these; metrics land in the "dvss" namespace the alarms watch. The log level
 * (POWERTOOLS_LOG_LEVEL) is the stage's: StageSettings.functionApplicationLogLevel.
 */
export const FUNCTION_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: "dvss",
  POWERTOOLS_METRICS_NAMESPACE: "dvss",
  NODE_OPTIONS: "--enable-source-maps",
};

/**
 * Application log levels Lambda may filter at (advanced logging controls): no higher than INFO.
 * Lambda counts a line without a `level` as INFO, and the EMF metric lines have none, so at WARN it
 * would drop them, and with them the metrics the alarms watch.
 */
const APPLICATION_LOG_LEVELS = ["TRACE", "DEBUG", "INFO"] as const;

/**
 * SST's `logging` args name the function's log format and group, not its log levels: this adds
 * them to the logging configuration SST builds (`transform.function`). The system level is the
 * stage's (StageSettings.functionSystemLogLevel: WARN drops START, END and REPORT); the application
 * level is the stage's too (StageSettings.functionApplicationLogLevel: DEBUG in development, INFO
 * in staging and production), the one the function's logger is given (POWERTOOLS_LOG_LEVEL), so
 * Lambda filters nothing the logger writes. Lambda hands it to the function as
 * AWS_LAMBDA_LOG_LEVEL, which Powertools Logger takes over POWERTOOLS_LOG_LEVEL: the two must agree.
 */
export function functionLogLevels(
  systemLogLevel: StageSettings["functionSystemLogLevel"],
  applicationLogLevel: string,
): (args: aws.lambda.FunctionArgs) => undefined {
  const application = APPLICATION_LOG_LEVELS.find((level) => level === applicationLogLevel);
  if (!application)
    throw new Error(
      `POWERTOOLS_LOG_LEVEL ${applicationLogLevel} would have Lambda drop the metric lines: use one of ${APPLICATION_LOG_LEVELS.join(", ")}`,
    );
  return (args) => {
    args.loggingConfig = $resolve({ config: args.loggingConfig }).apply(({ config }) => {
      if (!config) throw new Error("A function without logging has no log levels to set");
      return { ...config, logFormat: "JSON", systemLogLevel, applicationLogLevel: application };
    });
    return undefined;
  };
}

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
  const environment: Record<string, string> = {
    ...FUNCTION_ENVIRONMENT,
    POWERTOOLS_LOG_LEVEL: settings.functionApplicationLogLevel,
    // The feed's shard count: the state task writes to them, the feed route reads them.
    DVSS_FEED_SHARDS: String(settings.feedShards),
    ...overrides.environment,
  };
  return new sst.aws.Function(name, {
    handler,
    runtime: "nodejs24.x",
    architecture: "arm64",
    memory: overrides.memory ?? "512 MB",
    timeout: overrides.timeout ?? "30 seconds",
    // JSON: Lambda filters by level only in JSON format (the handlers' lines are JSON already).
    logging: { format: "json", retention: settings.logRetention },
    transform: {
      function: functionLogLevels(
        settings.functionSystemLogLevel,
        environment.POWERTOOLS_LOG_LEVEL ?? settings.functionApplicationLogLevel,
      ),
    },
    environment,
    ...(overrides.copyFiles && { copyFiles: overrides.copyFiles }),
    link: linksFor(access, stores),
    permissions: permissionsFor(access, stores),
  });
}
