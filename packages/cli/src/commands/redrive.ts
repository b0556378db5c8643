import { UsageError } from "@dvss/core/errors";
import { type RedriveItem, redriveEvents, redriveQuarantined } from "@dvss/core/ops/redrive";
import type { Command } from "commander";
import { EXIT } from "../exit.ts";
import { formatDuration, parseDuration, progressBar, status, table, truncate } from "../format.ts";
import { paint } from "../io.ts";
import { type Cli, type RegisterCommand, type TargetOptions, withTarget } from "./common.ts";

interface RedriveOptions extends TargetOptions {
  all?: boolean;
  vendor?: string;
  reason?: string;
  wait?: boolean;
  timeout: string;
}

/** 0 all started (and, with --wait, normalized); 1 any refused, failed or quarantined again; 3 any unknown. */
function exitCodeOf(items: RedriveItem[]) {
  const failed = items.some(
    (item) =>
      item.result === "refused" ||
      item.result === "failed" ||
      (item.outcome !== undefined && item.outcome.status !== "NORMALIZED"),
  );
  if (failed) return EXIT.FAILED;
  return items.some((item) => item.result === "not_found") ? EXIT.NOT_FOUND : EXIT.OK;
}

export const registerRedrive: RegisterCommand = (program: Command, cli: Cli) => {
  withTarget(
    program
      .command("redrive")
      .description("start a new execution for quarantined events (after fixing their cause)")
      .argument("[ingestId...]", "events to redrive")
      .option("--all", "every open quarantine entry (narrow it with --vendor, --reason)")
      .option("--vendor <vendorId>", "with --all: only this vendor's entries")
      .option("--reason <reason>", "with --all: only entries with this reason")
      .option("--wait", "wait for each new execution's outcome")
      .option("--timeout <duration>", "with --wait: how long to wait per event", "60s"),
  )
    .addHelpText(
      "after",
      "\nA NORMALIZED event is refused (use `dvss replay`). Executions are named <ingestId>-redrive-<attempt>." +
        "\nExit codes: 0 all started (with --wait: all NORMALIZED), 1 any refused/failed/quarantined again," +
        "\n3 an ingestId is unknown, 2 usage.",
    )
    .action(async (ingestIds: string[], options: RedriveOptions) => {
      if (options.all && ingestIds.length > 0) throw new UsageError("Give ingestIds or --all, not both");
      if (!options.all && ingestIds.length === 0)
        throw new UsageError("Give the ingestIds to redrive, or --all");
      if (!options.all && (options.vendor || options.reason)) {
        throw new UsageError("--vendor and --reason narrow --all; with ingestIds they do not apply");
      }
      const { io } = cli;
      const context = cli.context(options);
      let bar: ReturnType<typeof progressBar> | undefined;
      const runOptions = {
        wait: options.wait ?? false,
        timeoutMs: parseDuration(options.timeout, "--timeout"),
        onPublishWait: (ms: number) =>
          io.err(`Waiting ${formatDuration(ms)} for the latest mapping publish to reach the workers...\n`),
        onProgress: (done: number, total: number) => {
          bar ??= progressBar(io, "redrive", total);
          bar.tick(done);
        },
      };
      const items = options.all
        ? await redriveQuarantined(context, { vendorId: options.vendor, reason: options.reason }, runOptions)
        : await redriveEvents(context, ingestIds, runOptions);
      bar?.done();
      cli.exit(exitCodeOf(items));
      cli.print(options, { items }, () => {
        if (items.length === 0) return "Nothing to redrive: no open quarantine entries match.";
        const rows = items.map((item) => [
          item.ingestId,
          item.vendorId ?? "",
          item.reason ?? "",
          status(io, item.result),
          item.executionName ?? "",
          item.outcome ? status(io, item.outcome.status) : "",
          truncate(
            item.message ??
              (item.outcome?.reason ? `${item.outcome.reason}: ${item.outcome.message ?? ""}` : ""),
            70,
          ),
        ]);
        const headers = [
          "ingestId",
          "vendor",
          "reason",
          "result",
          "execution",
          options.wait ? "outcome" : "",
          "note",
        ];
        const started = items.filter((item) => item.result === "started").length;
        return [
          table(io, headers, rows),
          paint(
            io,
            "dim",
            `${started} of ${items.length} started.${options.wait ? "" : " Follow one with `dvss status <ingestId>`, or redrive with --wait."}`,
          ),
        ].join("\n");
      });
    });
};
