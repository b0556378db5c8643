import {
  type EventStory,
  type ExecutionStep,
  loadEventStory,
  type RawBody,
  readRawBody,
} from "@dvss/core/ops/story";
import { type Command, Option } from "commander";
import { fields, formatDuration, status, table, truncate } from "../format.ts";
import { type Io, paint } from "../io.ts";
import { type Cli, type RegisterCommand, type TargetOptions, withTarget } from "./common.ts";

function stepError(step: ExecutionStep): string {
  if (!step.error) return "";
  const { code, error, message } = step.error;
  return truncate(`${code ?? error}: ${message ?? step.error.cause}`, 90);
}

/** The story as text: record, executions with their steps, quarantine, divergences. */
export function formatStory(io: Io, story: EventStory): string {
  const { record, quarantine } = story;
  const lines: string[] = [];
  lines.push(
    paint(io, "bold", `Event ${story.ingestId}`) +
      (record
        ? `  ${record.vendorId} / ${record.externalEventId}`
        : quarantine
          ? `  ${quarantine.vendorId} / ${quarantine.externalEventId}`
          : ""),
  );
  if (record) {
    lines.push(
      fields(io, [
        [
          "status",
          status(io, record.status) +
            (record.lastError ? `  ${record.lastError.code}: ${record.lastError.message}` : ""),
        ],
        [
          "event type",
          `${record.eventType}${record.schemaVersion ? ` (schemaVersion ${record.schemaVersion})` : ""}${record.standardEventType ? ` → ${record.standardEventType}` : ""}`,
        ],
        ["mapping", record.mappingVersion],
        ["occurred", record.occurredAt],
        ["received", record.receivedAt],
        ["attempts", String(record.attempts ?? 0)],
        ["raw", story.rawRef && `s3://${story.rawRef.bucket}/${story.rawRef.key}`],
        [
          "normalized",
          story.normalizedRef && `s3://${story.normalizedRef.bucket}/${story.normalizedRef.key}`,
        ],
      ]),
    );
  } else {
    lines.push(paint(io, "yellow", "  no ingest record (quarantined without one)"));
  }

  lines.push("", paint(io, "bold", `Executions (${story.executions.length})`));
  if (story.executionsNote) lines.push(`  ${story.executionsNote}`);
  for (const execution of story.executions) {
    const took =
      execution.startDate && execution.stopDate
        ? formatDuration(Date.parse(execution.stopDate) - Date.parse(execution.startDate))
        : "";
    lines.push(
      `  ${execution.name}  ${status(io, execution.status)}  ${execution.startDate ?? ""}  ${took}`.trimEnd(),
    );
    if (execution.error)
      lines.push(
        `    ${paint(io, "red", `${execution.error.error}: ${execution.error.message ?? execution.error.cause}`)}`,
      );
    if (execution.steps.length > 0) {
      const rows = execution.steps.map((step) => [
        step.state,
        status(io, step.status),
        step.retries ? String(step.retries) : "",
        stepError(step),
      ]);
      lines.push(
        table(io, ["state", "status", "retries", "error"], rows)
          .split("\n")
          .map((line) => `    ${line}`)
          .join("\n"),
      );
    }
  }

  lines.push("", paint(io, "bold", "Quarantine"));
  if (quarantine) {
    lines.push(
      fields(io, [
        ["status", status(io, quarantine.status)],
        ["reason", `${quarantine.reason} (${quarantine.errorName}, stage ${quarantine.stage})`],
        ["message", quarantine.message],
        ["attempts", String(quarantine.attempts)],
        ["quarantined", quarantine.quarantinedAt],
        ["updated", quarantine.updatedAt],
      ]),
    );
    for (const detail of quarantine.details ?? []) lines.push(`    ${detail.path}: ${detail.message}`);
    if (quarantine.status !== "resolved")
      lines.push(paint(io, "dim", `  fix, then: npx dvss redrive ${story.ingestId}`));
  } else {
    lines.push("  none");
  }

  lines.push("", paint(io, "bold", `Divergences (${story.divergences.length})`));
  if (story.divergences.length > 0) {
    lines.push(
      table(
        io,
        ["kind", "entity", "reason", "detected"],
        story.divergences.map((d) => [
          d.kind,
          `${d.entityType} ${d.entityKey}`,
          truncate(d.reason, 70),
          d.detectedAt,
        ]),
      )
        .split("\n")
        .map((line) => `  ${line}`)
        .join("\n"),
    );
  }
  return lines.join("\n");
}

/** `status --raw --json`: the body as text when it is UTF-8, else base64, so any bytes survive JSON. */
export function rawJson(raw: RawBody) {
  let text: string | undefined;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(raw.body);
  } catch {
    text = undefined;
  }
  return {
    ingestId: raw.ingestId,
    rawRef: raw.rawRef,
    bytes: raw.body.length,
    encoding: text === undefined ? "base64" : "utf8",
    body: text ?? Buffer.from(raw.body).toString("base64"),
  };
}

export const registerStatus: RegisterCommand = (program: Command, cli: Cli) => {
  withTarget(
    program
      .command("status")
      .description("the whole story of one event: record, executions with each step, quarantine, divergences")
      .argument("<ingestId>", "the event's ingestId (from the 202 answer)"),
  )
    .addOption(
      new Option(
        "--raw",
        "print the raw body's bytes exactly as stored; with --json, an object carrying it (utf8, or base64 when not UTF-8)",
      ),
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 found, 3 no such event (or its raw body is gone), 1 a store failed, 2 usage.",
    )
    .action(async (ingestId: string, options: TargetOptions & { raw?: boolean }) => {
      if (options.raw) {
        const raw = await readRawBody(cli.context(options), ingestId);
        if (options.json) cli.print(options, rawJson(raw), () => "");
        else cli.io.outBytes(raw.body);
        return;
      }
      const story = await loadEventStory(cli.context(options), ingestId);
      cli.print(options, story, () => formatStory(cli.io, story));
    });
};
