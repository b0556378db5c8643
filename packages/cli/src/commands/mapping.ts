import { join, relative, resolve } from "node:path";
import { UsageError } from "@dvss/core/errors";
import { checkExamples, formatExampleReport } from "@dvss/core/mapping/check";
import { nextVersion, type SuggestResult, writeSuggestion } from "@dvss/core/mapping/suggest";
import { publishVersionDir, requireDirectory } from "@dvss/core/ops/publish";
import { type FieldChange, type WhatIfReport, whatIf } from "@dvss/core/ops/what-if";
import { STANDARD_EVENT_TYPES, type StandardEventType } from "@dvss/core/standard-events";
import { type Command, Option } from "commander";
import { EXIT } from "../exit.ts";
import { fields, parseInstant, progressBar, status, table, truncate } from "../format.ts";
import { type Io, paint } from "../io.ts";
import { type Cli, type RegisterCommand, type TargetOptions, withJson, withTarget } from "./common.ts";

/** formatExampleReport with PASS green and FAIL red. */
function colouredReport(io: Io, text: string): string {
  return text
    .split("\n")
    .map((line) =>
      line.startsWith("PASS ")
        ? paint(io, "green", "PASS") + line.slice(4)
        : line.startsWith("FAIL ")
          ? paint(io, "red", "FAIL") + line.slice(4)
          : line,
    )
    .join("\n");
}

/** What suggest wrote, what each standard field reads, what is left to finish, then the check. */
function suggestText(io: Io, result: SuggestResult, shownDir: string): string {
  const lines = [
    `Suggested ${result.vendorId}/${result.eventType}/${result.version} (${result.standard}) in ${shownDir}`,
    "",
    table(
      io,
      ["field", "from", "mapping"],
      result.fields.map((field) => [
        field.field,
        field.from?.join(", ") ?? paint(io, "red", "(unmapped)"),
        field.expression ?? "",
      ]),
    ),
  ];
  const left = result.fields.filter((field) => field.unmapped);
  const unmappedExamples = result.examples.filter((example) => !example.expected);
  if (left.length > 0 || unmappedExamples.length > 0) {
    lines.push("", paint(io, "bold", "Left for you to finish:"));
    for (const field of left) lines.push(`  ${field.field}: ${field.unmapped}`);
    for (const example of unmappedExamples) {
      lines.push(
        `  examples/${example.name}.expected.json not written: ${example.error ?? "the mapping fails"}`,
      );
    }
  }
  if (result.unused.length > 0) lines.push("", `Not used by the mapping: ${result.unused.join(", ")}`);
  lines.push("", colouredReport(io, formatExampleReport(result.check)));
  lines.push(
    result.check.passed
      ? paint(
          io,
          "dim",
          `Review it, then \`npx dvss mapping what-if ${shownDir}\` and \`npx dvss mapping publish ${shownDir}\`.`,
        )
      : paint(io, "red", `Finish the mapping, then \`npx dvss mapping check ${shownDir}\`.`),
  );
  return lines.join("\n");
}

const shown = (value: unknown) => (value === undefined ? "(absent)" : JSON.stringify(value));
const changeLine = (change: FieldChange) => `${change.path}: ${shown(change.now)} → ${shown(change.after)}`;

/** What an operator compares first: the quantity of an inventory, the status of an order. */
function stateValue(view: Record<string, unknown> | null): string {
  if (!view) return "(none)";
  return String("quantityOnHand" in view ? view.quantityOnHand : view.status);
}

function whatIfText(io: Io, report: WhatIfReport, shownDir: string): string {
  const { counts } = report;
  const window = `${report.from ?? "the beginning"} to ${report.to}`;
  const lines = [
    `What-if ${report.candidate}: ${counts.events} event(s) of ${report.vendorId} ${report.eventType} from ${window}`,
    `  ${counts.unchanged} unchanged, ${counts.changed} changed, ${counts.new} new, ${counts.wouldFail} would fail, ` +
      `${counts.otherVersion} on another schemaVersion (not affected); ${counts.states} canonical state(s) would change`,
  ];
  const { examples, refusal } = report.publish;
  if (refusal) lines.push(paint(io, "red", `  Publish would be refused: ${refusal}`));
  else if (examples.failed > 0 || examples.total === 0) {
    lines.push(
      paint(
        io,
        "red",
        `  Publish would be refused: ${examples.failed} of ${examples.total} example(s) fail (npx dvss mapping check ${shownDir})`,
      ),
    );
  } else lines.push(`  Its ${examples.total} example(s) pass: publish would take it.`);
  const more = (omitted: number) =>
    omitted > 0 ? [paint(io, "dim", `  ... and ${omitted} more (--json lists up to the same limit)`)] : [];
  if (report.wouldFail.length > 0) {
    lines.push("", paint(io, "bold", "Would fail"));
    lines.push(
      table(
        io,
        ["ingestId", "externalEventId", "now", "code", "fields", "message"],
        report.wouldFail.map((item) => [
          item.ingestId,
          item.externalEventId,
          status(io, item.now.code ?? item.now.status),
          paint(io, "red", item.code),
          item.fields.join(", "),
          truncate(item.message, 60),
        ]),
      ),
      ...more(report.omitted.wouldFail),
    );
  }
  if (report.documents.length > 0) {
    lines.push("", paint(io, "bold", "Documents that would change (field: now → with the candidate)"));
    lines.push(
      table(
        io,
        ["ingestId", "externalEventId", "change", "fields"],
        report.documents.map((item) => [
          item.ingestId,
          item.externalEventId,
          status(io, item.change),
          truncate(
            item.fields.map(changeLine).join("; ") +
              (item.appliedAlready ? " (applied already: its state keeps what it said)" : ""),
            100,
          ),
        ]),
      ),
      ...more(report.omitted.documents),
    );
  }
  if (report.states.length > 0) {
    lines.push("", paint(io, "bold", "Canonical states that would change"));
    lines.push(
      table(
        io,
        ["entity", "value", "version", "also"],
        report.states.map((item) => [
          `${item.entity.type} ${item.entity.key}`,
          `${stateValue(item.now)} → ${stateValue(item.after)}`,
          `${item.now?.version ?? 0} → ${item.after.version}`,
          truncate(
            (item.now ? item.fields : [])
              .filter((change) => !["quantityOnHand", "status", "version"].includes(change.path))
              .map((change) => change.path)
              .join(", "),
            60,
          ),
        ]),
      ),
      ...more(report.omitted.states),
    );
  }
  lines.push(
    "",
    paint(
      io,
      "dim",
      `Nothing was written. To apply: npx dvss mapping publish ${shownDir}, then npx dvss replay --vendor ${report.vendorId} --event-type ${report.eventType}`,
    ),
  );
  return lines.join("\n");
}

/** A folder as the operator should read it: relative to where they are, unless that climbs out. */
function shownPath(cwd: string, dir: string): string {
  const path = relative(cwd, dir);
  return path === "" ? "." : path.startsWith("..") ? dir : path;
}

export const registerMapping: RegisterCommand = (program: Command, cli: Cli) => {
  const mapping = program
    .command("mapping")
    .description("vendor definitions: suggest, check, try (what-if) and publish versions")
    .addHelpText("after", "\nSee `dvss mapping <command> --help`.");

  withJson(
    mapping
      .command("check")
      .description("run the golden examples of a definitions tree, a vendor folder or a version folder")
      .argument(
        "<dir>",
        "schemas/vendors, schemas/vendors/<vendorId> or .../<vendorId>/<eventType>/<version>",
      ),
  )
    .addHelpText(
      "after",
      "\nEvery vendor folder needs a vendor.json with vendorId (the folder's name), name, priority and" +
        "\nrateLimitPerSecond; `npm start` checks the same and refuses a vendor whose folder fails it." +
        "\nNeeds no running DVSS.\nExit codes: 0 every example passed, 1 any mismatch or error, 3 no such folder.",
    )
    .action(async (dir: string, options: { json?: boolean }) => {
      const path = resolve(cli.io.cwd, dir);
      requireDirectory(path);
      // Problems name files as the operator typed the folder: schemas/vendors/<vendorId>/vendor.json.
      const report = await checkExamples(path, undefined, { label: dir.replace(/[\\/]+$/, "") || dir });
      if (!report.passed) cli.exit(EXIT.FAILED);
      cli.print(options, report, () => colouredReport(cli.io, formatExampleReport(report)));
    });

  withJson(
    mapping
      .command("suggest")
      .description("write a first version folder for a vendor event type from sample envelopes")
      .requiredOption("--vendor <vendorId>", "the vendor the samples are from")
      .requiredOption("--event-type <type>", "the vendor's event type (e.g. stock_level)")
      .requiredOption("--samples <dir>", "a folder of sample envelopes (*.json; *.expected.json are skipped)")
      .addOption(
        new Option(
          "--standard <type>",
          "the standard event to map to (default: told from the fields)",
        ).choices(STANDARD_EVENT_TYPES),
      )
      .option(
        "--out <dir>",
        "the version folder to write, <...>/<vendorId>/<eventType>/<version>/ (default: the next version under schemas/vendors)",
      ),
  )
    .addHelpText(
      "after",
      "\nInfers payload.schema.json from the samples, proposes mapping.jsonata from field names, types and" +
        "\nvalues, writes each sample as an example with the document the mapping gives it, then runs" +
        "\n`mapping check` on the folder and names what it could not map. Same samples, same files. Needs no" +
        "\nrunning DVSS and never overwrites a folder." +
        "\nExit codes: 0 written and every example passes, 1 written with something left to finish, or refused.",
    )
    .action(
      async (options: {
        vendor: string;
        eventType: string;
        samples: string;
        standard?: StandardEventType;
        out?: string;
        json?: boolean;
      }) => {
        const { io } = cli;
        const samplesDir = resolve(io.cwd, options.samples);
        requireDirectory(samplesDir);
        let versionDir: string;
        if (options.out) versionDir = resolve(io.cwd, options.out);
        else {
          const vendorsDir = resolve(io.cwd, io.env.DVSS_VENDORS_DIR ?? "schemas/vendors");
          const version = await nextVersion(vendorsDir, options.vendor, options.eventType);
          versionDir = join(vendorsDir, options.vendor, options.eventType, version);
        }
        const result = await writeSuggestion({
          samplesDir,
          vendorId: options.vendor,
          eventType: options.eventType,
          versionDir,
          ...(options.standard && { standard: options.standard }),
        });
        if (!result.check.passed) cli.exit(EXIT.FAILED);
        const shownDir = shownPath(io.cwd, versionDir);
        cli.print(options, { ...result, versionDir: shownDir }, () => suggestText(io, result, shownDir));
      },
    );

  withTarget(
    mapping
      .command("what-if")
      .description(
        "what publishing a candidate version and replaying its events would change; writes nothing",
      )
      .argument(
        "<versionDir>",
        "a candidate folder <vendorId>/<eventType>/<version>/ laid out as in schemas/vendors",
      )
      .option("--from <iso>", "events that arrived at or after this instant (default: the whole archive)")
      .option("--to <iso>", "events that arrived before this instant (default: now)"),
  )
    .addHelpText(
      "after",
      "\nMaps every archived event of the vendor and event type (those without a schemaVersion, or naming" +
        "\nthe candidate's) with the candidate, in the CLI, and compares with what is stored: events that would" +
        "\nfail (code, fields), normalized documents that would change (field: now → then), and canonical" +
        "\nstates that would change once the replay folds them in (value and version). Run it before" +
        "\n`mapping publish`. The window is on arrival time, as for replay." +
        "\nIt also says whether publish would take the folder (its examples pass, its version is new or the same)." +
        "\nExit codes: 0 no event would fail and publish would take it, 1 otherwise (or the folder does not compile)," +
        "\n2 usage, 3 no such folder.",
    )
    .action(async (versionDir: string, options: TargetOptions & { from?: string; to?: string }) => {
      const { io } = cli;
      const from = options.from === undefined ? undefined : parseInstant(options.from, "--from");
      const to = options.to === undefined ? undefined : parseInstant(options.to, "--to");
      if (from && to && from >= to) throw new UsageError("--from must be before --to");
      const dir = resolve(io.cwd, versionDir);
      let bar: ReturnType<typeof progressBar> | undefined;
      const report = await whatIf(cli.context(options), dir, {
        from,
        to,
        onListed: (total) => {
          bar = progressBar(io, "what-if", total);
        },
        onProgress: (done) => bar?.tick(done),
      });
      bar?.done();
      const { publish } = report;
      const refused =
        publish.refusal !== undefined || publish.examples.failed > 0 || publish.examples.total === 0;
      if (report.counts.wouldFail > 0 || refused) cli.exit(EXIT.FAILED);
      cli.print(options, report, () => whatIfText(io, report, shownPath(io.cwd, dir)));
    });

  withTarget(
    mapping
      .command("publish")
      .description(
        "validate a version folder and publish it as the event type's active version (no redeploy)",
      )
      .argument("<versionDir>", "a folder <vendorId>/<eventType>/<version>/ laid out as in schemas/vendors"),
  )
    .addHelpText(
      "after",
      "\nVersions are immutable: the same version with other content is refused; with the same content it" +
        "\nchanges nothing (except making it active again, which is how to roll back). Events without a" +
        "\nschemaVersion use the active version; a redrive after the publish uses it." +
        "\nExit codes: 0 published (or already was), 1 an example failed or the version exists with other content," +
        "\n3 no such folder or vendor, 2 usage.",
    )
    .action(async (versionDir: string, options: TargetOptions) => {
      const report = await publishVersionDir(cli.context(options), resolve(cli.io.cwd, versionDir));
      if (!report.published) cli.exit(EXIT.FAILED);
      cli.print(options, report, () => {
        const { io } = cli;
        const examples = colouredReport(io, formatExampleReport(report.examples));
        if (!report.published)
          return `${examples}\n${paint(io, "red", "Not published: fix the examples first.")}`;
        const { result } = report;
        const previous = report.previousEffective ?? "none";
        return [
          examples,
          result.outcome === "published"
            ? paint(io, "green", `Published ${result.id}.`)
            : `${result.id} was already published with this content.`,
          fields(io, [
            ["sha256", result.contentSha256],
            [
              "active",
              previous === result.active ? `${result.active} (unchanged)` : `${previous} → ${result.active}`,
            ],
            ["since", result.activatedAt],
          ]),
        ].join("\n");
      });
    });
};
