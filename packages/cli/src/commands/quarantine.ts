import { QUARANTINE_STATUSES, type QuarantineStatus } from "@dvss/core/entities/index";
import { listQuarantine } from "@dvss/core/ops/quarantine";
import { type Command, Option } from "commander";
import { parseSince, status, table, truncate } from "../format.ts";
import { paint } from "../io.ts";
import { type Cli, type RegisterCommand, type TargetOptions, withTarget } from "./common.ts";

interface ListOptions extends TargetOptions {
  vendor?: string;
  reason?: string;
  since?: string;
  status: QuarantineStatus | "all";
}

export const registerQuarantine: RegisterCommand = (program: Command, cli: Cli) => {
  const quarantine = program
    .command("quarantine")
    .description("events that could not be normalized")
    .addHelpText("after", "\nSee `dvss quarantine list --help`.");

  withTarget(
    quarantine
      .command("list")
      .description("quarantine entries, newest first, with counts by reason")
      .option("--vendor <vendorId>", "only this vendor's events")
      .option("--reason <reason>", "only this reason (SCHEMA_VALIDATION_FAILED, MAPPING_FAILED, STUCK, ...)")
      .option(
        "--since <when>",
        "quarantined at or after an ISO date-time, or a duration back from now (24h, 7d)",
      )
      .addOption(
        new Option("--status <status>", "which entries")
          .choices([...QUARANTINE_STATUSES, "all"])
          .default("open"),
      ),
  )
    .addHelpText("after", "\nExit codes: 0 listed (also when empty), 1 a store failed, 2 usage.")
    .action(async (options: ListOptions) => {
      const listing = await listQuarantine(cli.context(options), {
        vendorId: options.vendor,
        reason: options.reason,
        since: options.since === undefined ? undefined : parseSince(options.since),
        status: options.status,
      });
      cli.print(options, listing, () => {
        const { io } = cli;
        if (listing.total === 0)
          return `No ${options.status === "all" ? "" : `${options.status} `}quarantine entries.`;
        const rows = listing.entries.map((entry) => [
          entry.ingestId,
          entry.vendorId,
          entry.eventType ?? "",
          paint(io, "red", entry.reason),
          entry.stage,
          status(io, entry.status),
          String(entry.attempts),
          entry.quarantinedAt,
          truncate(entry.message, 60),
        ]);
        const counts = Object.entries(listing.countsByReason)
          .sort((a, b) => b[1] - a[1])
          .map(([reason, count]) => [reason, String(count)]);
        return [
          table(
            io,
            [
              "ingestId",
              "vendor",
              "eventType",
              "reason",
              "stage",
              "status",
              "attempts",
              "quarantinedAt",
              "message",
            ],
            rows,
          ),
          "",
          table(io, ["reason", "count"], counts),
          `${listing.total} entr${listing.total === 1 ? "y" : "ies"}.`,
        ].join("\n");
      });
    });
};
