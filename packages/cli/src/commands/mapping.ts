import { resolve } from "node:path";
import { checkExamples, formatExampleReport } from "@dvss/core/mapping/check";
import { publishVersionDir, requireDirectory } from "@dvss/core/ops/publish";
import type { Command } from "commander";
import { EXIT } from "../exit.ts";
import { fields } from "../format.ts";
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

export const registerMapping: RegisterCommand = (program: Command, cli: Cli) => {
  const mapping = program
    .command("mapping")
    .description("vendor definitions: check their golden examples, publish new versions")
    .addHelpText("after", "\nSee `dvss mapping check --help` and `dvss mapping publish --help`.");

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
