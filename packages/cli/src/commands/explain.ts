import type { ExplainStep, Explanation } from "@dvss/core/state/history";
import { explainInventory, explainOrder } from "@dvss/core/state/history";
import type { Command } from "commander";
import { table, truncate } from "../format.ts";
import { type Io, paint } from "../io.ts";
import { type Cli, type RegisterCommand, type TargetOptions, withTarget } from "./common.ts";

const show = (value: ExplainStep["value"]) =>
  Array.isArray(value) ? value.map((line) => `${line.sku}×${line.quantity}`).join(" ") : String(value);

/** The chain as text: one row per event in fold order, then why each divergence, then the stored state. */
export function formatExplanation(io: Io, explanation: Explanation<{ version: number }>): string {
  const { entity, steps } = explanation;
  const rows = steps.map((step) => [
    step.occurredAt,
    step.vendorId,
    step.eventType,
    step.effect === "skipped"
      ? paint(io, "dim", `skipped ${show(step.value)}`)
      : `${step.effect} ${show(step.value)}`,
    String(step.running),
    `v${step.version}`,
    step.mappingVersion,
    step.ingestId,
    paint(io, "yellow", step.divergences.map((d) => d.kind).join(" ")),
  ]);
  const lines = [
    `${paint(io, "bold", `${entity.type} ${entity.key}`)}  ${steps.length} events, version ${explanation.state.version}`,
    table(
      io,
      ["occurredAt", "vendor", "event", "effect", "then", "joined", "mapping", "ingestId", "divergences"],
      rows,
    ),
  ];
  const why = [
    ...steps.flatMap((step) => step.divergences.map((d) => ({ ...d, on: step.externalEventId }))),
    ...explanation.otherDivergences.map((d) => ({ ...d, on: `${d.ingestId} (not in the log)` })),
  ];
  if (why.length > 0) {
    lines.push("", paint(io, "bold", "Divergences"));
    for (const d of why)
      lines.push(`  ${paint(io, "yellow", d.kind)} on ${d.on}: ${truncate(d.reason, 100)}`);
  }
  lines.push(
    "",
    explanation.consistent
      ? `Stored state: ${JSON.stringify(explanation.state)}`
      : paint(io, "red", `The chain does not end at the stored state: ${JSON.stringify(explanation.state)}`),
  );
  return lines.join("\n");
}

export const registerExplain: RegisterCommand = (program: Command, cli: Cli) => {
  const explain = program
    .command("explain")
    .description(
      "how an entity's canonical state came to be: each event in fold order, what it did, its divergences",
    )
    .addHelpText("after", "\nSee `dvss explain inventory --help` and `dvss explain order --help`.");
  const exitCodes = "\nExit codes: 0 explained, 3 no such entity, 1 a store failed, 2 usage.";

  withTarget(
    explain.command("inventory").description("one warehouse/sku").argument("<warehouseId>").argument("<sku>"),
  )
    .addHelpText("after", exitCodes)
    .action(async (warehouseId: string, sku: string, options: TargetOptions) => {
      const explanation = await explainInventory(cli.context(options).entities, warehouseId, sku);
      cli.print(options, explanation, () => formatExplanation(cli.io, explanation));
    });

  withTarget(explain.command("order").description("one order").argument("<orderId>"))
    .addHelpText("after", exitCodes)
    .action(async (orderId: string, options: TargetOptions) => {
      const explanation = await explainOrder(cli.context(options).entities, orderId);
      cli.print(options, explanation, () => formatExplanation(cli.io, explanation));
    });
};
