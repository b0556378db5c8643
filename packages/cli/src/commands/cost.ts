import {
  costModel,
  EXPRESS_LOG_LEVELS,
  type ExpressLogLevel,
  formatCost,
  LAMBDA_SYSTEM_LOG_LEVELS,
  type LambdaSystemLogLevel,
  PRODUCTION_EXPRESS_LOG_LEVEL,
  PRODUCTION_LAMBDA_SYSTEM_LOG_LEVEL,
} from "@dvss/core/cost";
import { UsageError } from "@dvss/core/errors";
import type { Command } from "commander";
import { type Cli, type RegisterCommand, withJson } from "./common.ts";

function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`--rate must be a positive number, not "${text}"`);
  return value;
}

function logLevel(text: string): ExpressLogLevel {
  const level = EXPRESS_LOG_LEVELS.find((candidate) => candidate === text.toUpperCase());
  if (!level)
    throw new UsageError(`--logging must be one of ${EXPRESS_LOG_LEVELS.join(", ")}, not "${text}"`);
  return level;
}

function systemLogLevel(text: string): LambdaSystemLogLevel {
  const level = LAMBDA_SYSTEM_LOG_LEVELS.find((candidate) => candidate === text.toUpperCase());
  if (!level)
    throw new UsageError(
      `--system-logs must be one of ${LAMBDA_SYSTEM_LOG_LEVELS.join(", ")}, not "${text}"`,
    );
  return level;
}

/** `dvss cost --rate N`: the AWS cost model (core/cost.ts) at a sustained rate of accepted events. */
export const registerCost: RegisterCommand = (program: Command, cli: Cli) => {
  withJson(
    program
      .command("cost")
      .description("estimate the monthly AWS cost at a sustained rate of accepted events")
      .requiredOption("--rate <eventsPerSecond>", "accepted events per second, sustained over a 30-day month")
      .option("--memory <mb>", "Lambda memory in MB", "512")
      .option(
        "--logging <level>",
        "the state machine's logging level: ALL (with execution data, as development stages), ERROR (as production) or OFF",
        PRODUCTION_EXPRESS_LOG_LEVEL,
      )
      .option(
        "--system-logs <level>",
        "the functions' Lambda system log level: INFO (START, END and REPORT per invocation, as development stages) or WARN (none, as staging and production)",
        PRODUCTION_LAMBDA_SYSTEM_LOG_LEVEL,
      ),
  )
    .addHelpText(
      "after",
      "\nNeeds no running DVSS. Prices are us-east-1 list prices quoted in core/cost.ts with their date:\ncheck them before relying on a figure. Method: docs/performance.md.",
    )
    .action(
      (options: { rate: string; memory: string; logging: string; systemLogs: string; json?: boolean }) => {
        const model = costModel({
          eventsPerSecond: positiveNumber(options.rate),
          lambdaMemoryMb: positiveNumber(options.memory),
          expressLogLevel: logLevel(options.logging),
          lambdaSystemLogLevel: systemLogLevel(options.systemLogs),
        });
        cli.print(options, model, () => formatCost(model));
      },
    );
};
