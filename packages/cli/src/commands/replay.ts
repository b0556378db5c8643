import { UsageError } from "@dvss/core/errors";
import { replayWindow } from "@dvss/core/ops/replay";
import type { Command } from "commander";
import { EXIT } from "../exit.ts";
import {
  formatDuration,
  parseDuration,
  parseInstant,
  progressBar,
  status,
  table,
  truncate,
} from "../format.ts";
import { paint } from "../io.ts";
import { type Cli, type RegisterCommand, type TargetOptions, withTarget } from "./common.ts";

interface ReplayOptions extends TargetOptions {
  vendor: string;
  from?: string;
  to?: string;
  eventType?: string;
  dryRun?: boolean;
  concurrency: string;
  timeout: string;
}

export const registerReplay: RegisterCommand = (program: Command, cli: Cli) => {
  withTarget(
    program
      .command("replay")
      .description("normalize a vendor's events again from the raw archive, for a time window")
      .requiredOption("--vendor <vendorId>", "whose events")
      .option("--from <iso>", "events that arrived at or after this instant (default: the whole archive)")
      .option("--to <iso>", "events that arrived before this instant (default: now)")
      .option(
        "--event-type <type>",
        "only this event type (the vendor's, e.g. inventory_update, or the standard one)",
      )
      .option("--dry-run", "show what would change (new or different normalized documents); write nothing")
      .option("--concurrency <n>", "events in flight at once", "4")
      .option("--timeout <duration>", "how long to wait for each event's execution", "60s"),
  )
    .addHelpText(
      "after",
      "\nThe window is on arrival time (the ingestId's ULID time, also the day in the raw key)." +
        "\nReplays are idempotent: an unchanged mapping writes the same bytes and state is never counted twice." +
        "\nExit codes: 0 every event normalized (dry run: would normalize), 1 any would fail/failed/quarantined, 2 usage.",
    )
    .action(async (options: ReplayOptions) => {
      const concurrency = Number(options.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        throw new UsageError("--concurrency must be a whole number from 1 to 64");
      }
      const from = options.from === undefined ? undefined : parseInstant(options.from, "--from");
      const to = options.to === undefined ? undefined : parseInstant(options.to, "--to");
      if (from && to && from >= to) throw new UsageError("--from must be before --to");
      const { io } = cli;
      let bar: ReturnType<typeof progressBar> | undefined;
      const report = await replayWindow(cli.context(options), {
        vendorId: options.vendor,
        from,
        to,
        eventType: options.eventType,
        dryRun: options.dryRun ?? false,
        concurrency,
        timeoutMs: parseDuration(options.timeout, "--timeout"),
        onListed: (total) => {
          bar = progressBar(io, options.dryRun ? "dry run" : "replay", total);
        },
        onProgress: (done) => bar?.tick(done),
        onPublishWait: (ms) =>
          io.err(`Waiting ${formatDuration(ms)} for the latest mapping publish to reach the workers...\n`),
      });
      bar?.done();
      const failed = report.items.some((item) =>
        ["would_fail", "quarantined", "failed"].includes(item.result),
      );
      cli.exit(failed ? EXIT.FAILED : EXIT.OK);
      cli.print(options, report, () => {
        const window = `${report.from ?? "the beginning"} to ${report.to}`;
        if (report.items.length === 0) return `No events of ${report.vendorId} from ${window}.`;
        const lines: string[] = [];
        const interesting = report.items.filter((item) => item.result !== "unchanged");
        if (interesting.length > 0) {
          lines.push(
            table(
              io,
              ["ingestId", "eventType", "result", "normalizedKey", "note"],
              interesting.map((item) => [
                item.ingestId,
                item.eventType ?? "",
                status(io, item.result),
                item.normalizedKey ?? "",
                truncate(item.reason ? `${item.reason}: ${item.message ?? ""}` : (item.message ?? ""), 70),
              ]),
            ),
          );
          for (const item of interesting.filter((i) => i.diff?.length)) {
            lines.push("", paint(io, "bold", `${item.ingestId} ${item.normalizedKey ?? ""}`));
            for (const line of item.diff ?? []) lines.push(`  ${line}`);
          }
          lines.push("");
        }
        const counts = Object.entries(report.counts)
          .map(([result, count]) => `${count} ${status(io, result)}`)
          .join(", ");
        lines.push(
          `${report.dryRun ? "Dry run" : "Replayed"} ${report.items.length} event(s) of ${report.vendorId} from ${window}: ${counts}.`,
        );
        if (report.dryRun) lines.push(paint(io, "dim", "Nothing was written."));
        return lines.join("\n");
      });
    });
};
