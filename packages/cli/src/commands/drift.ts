import { ackDrift, listDrift } from "@dvss/core/ops/drift";
import type { Command } from "commander";
import { fields, parseSince, table, truncate } from "../format.ts";
import { paint } from "../io.ts";
import { type Cli, type RegisterCommand, type TargetOptions, withTarget } from "./common.ts";

interface ListOptions extends TargetOptions {
  vendor?: string;
  since?: string;
  all?: boolean;
}

export const registerDrift: RegisterCommand = (program: Command, cli: Cli) => {
  const drift = program
    .command("drift")
    .description("changes in vendors' payloads, before and when they break events (docs/spec/drift.md)")
    .addHelpText("after", "\nSee `dvss drift list --help` and `dvss drift ack --help`.");

  withTarget(
    drift
      .command("list")
      .description("drift findings, breaking first, then the most recently seen; acknowledged ones hidden")
      .option("--vendor <vendorId>", "only this vendor's findings")
      .option("--since <when>", "seen at or after an ISO date-time, or a duration back from now (24h, 7d)")
      .option("--all", "acknowledged findings too"),
  )
    .addHelpText("after", "\nExit codes: 0 listed (also when empty), 1 a store failed, 2 usage.")
    .action(async (options: ListOptions) => {
      const listing = await listDrift(cli.context(options), {
        vendorId: options.vendor,
        since: options.since === undefined ? undefined : parseSince(options.since),
        all: options.all,
      });
      cli.print(options, listing, () => {
        const { io } = cli;
        const hidden =
          listing.hiddenAcked > 0 ? ` ${listing.hiddenAcked} acknowledged not shown (--all shows them).` : "";
        if (listing.total === 0) return `No drift findings.${hidden}`;
        const rows = listing.findings.map((finding) => [
          finding.findingId,
          `${finding.vendorId}/${finding.eventType}/${finding.version}`,
          finding.severity === "breaking"
            ? paint(io, "red", "breaking")
            : paint(io, "yellow", "non_breaking"),
          finding.kind,
          truncate(finding.path, 40),
          truncate(finding.expected, 40),
          truncate(finding.seen, 30),
          String(finding.count),
          finding.lastSeen,
          finding.acked ? "acked" : "",
        ]);
        return [
          table(
            io,
            ["findingId", "version", "severity", "kind", "path", "expected", "seen", "count", "lastSeen", ""],
            rows,
          ),
          `${listing.total} finding${listing.total === 1 ? "" : "s"}.${hidden}`,
        ].join("\n");
      });
    });

  withTarget(
    drift
      .command("ack")
      .argument("<findingId>", "as `dvss drift list` shows it (<vendorId>:<12 hex>)")
      .description("acknowledge a finding: hidden from `drift list` until it turns breaking"),
  )
    .addHelpText(
      "after",
      "\nExit codes: 0 acknowledged (also when it was), 3 no such finding, 1 a store failed, 2 usage.",
    )
    .action(async (findingId: string, options: TargetOptions) => {
      const finding = await ackDrift(cli.context(options), findingId);
      cli.print(options, finding, () =>
        [
          `Acknowledged ${finding.findingId} at its severity (${finding.severity}).`,
          fields(cli.io, [
            ["version", `${finding.vendorId}/${finding.eventType}/${finding.version}`],
            ["kind", finding.kind],
            ["path", finding.path],
            ["expected", finding.expected],
            ["seen", finding.seen],
            ["example", finding.exampleIngestId],
            ["acked at", finding.ackedAt],
          ]),
        ].join("\n"),
      );
    });
};
