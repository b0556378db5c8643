import { costModel, formatCost } from "@dvss/core/cost";
import { UsageError } from "@dvss/core/errors";
import type { Command } from "commander";
import { type Cli, type RegisterCommand, withJson } from "./common.ts";

function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`--rate must be a positive number, not "${text}"`);
  return value;
}

/** `dvss cost --rate N`: the AWS cost model (core/cost.ts) at a sustained rate of accepted events. */
export const registerCost: RegisterCommand = (program: Command, cli: Cli) => {
  withJson(
    program
      .command("cost")
      .description("estimate the monthly AWS cost at a sustained rate of accepted events")
      .requiredOption("--rate <eventsPerSecond>", "accepted events per second, sustained over a 30-day month")
      .option("--memory <mb>", "Lambda memory in MB", "512"),
  )
    .addHelpText(
      "after",
      "\nNeeds no running DVSS. Prices are us-east-1 list prices quoted in core/cost.ts with their date:\ncheck them before relying on a figure. Method: docs/performance.md.",
    )
    .action((options: { rate: string; memory: string; json?: boolean }) => {
      const model = costModel({
        eventsPerSecond: positiveNumber(options.rate),
        lambdaMemoryMb: positiveNumber(options.memory),
      });
      cli.print(options, model, () => formatCost(model));
    });
};
