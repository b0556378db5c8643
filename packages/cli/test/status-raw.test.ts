import { REPO_ROOT } from "@dvss/local/lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedEnvelope } from "../../local/test/harness.ts";
import { rawJson } from "../src/commands/status.ts";
import { bufferIo } from "../src/io.ts";
import { runCli } from "../src/main.ts";
import { type CliHarness, startCliHarness } from "./harness.ts";

let dvss: CliHarness;

beforeAll(async () => {
  dvss = await startCliHarness();
});
afterAll(async () => {
  await dvss?.close();
});

/** Runs the CLI keeping stdout as bytes. */
async function cliBytes(...argv: string[]) {
  const io = bufferIo({ env: dvss.env, cwd: REPO_ROOT });
  const code = await runCli(argv, io);
  return { code, stdout: io.stdoutBytes(), stderr: io.stderr() };
}

async function postRaw(body: Buffer): Promise<string> {
  const response = await fetch(`${dvss.endpoints.api}/v1/events`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "x-api-key": "local-vendorA-key" },
  });
  expect(response.status).toBe(202);
  await dvss.runtime.stepFunctions.drain();
  return ((await response.json()) as { ingestId: string }).ingestId;
}

describe("dvss status --raw", () => {
  it("prints the raw body's bytes exactly as stored: spacing, key order, escapes and UTF-8 kept", async () => {
    const body = Buffer.from(
      `{ "payload":{"warehouse":"ROA","qty":3,"sku":"RAW-\u00e9-\\u00e9-\u{1f4e6}"},\r\n\t"vendorId":"vendorA","externalEventId":"raw-1","eventType":"inventory_update","occurredAt":"2026-01-30T20:15:12Z","schemaVersion":"1"}\n`,
    );
    const ingestId = await postRaw(body);

    const result = await cliBytes("status", ingestId, "--raw");

    expect(result.code).toBe(0);
    expect(result.stdout.equals(body)).toBe(true);
  });

  it("with --json, carries the body as text with where it is stored", async () => {
    const ingestId = await dvss.postAndSettle({ ...seedEnvelope, externalEventId: "raw-json-1" });

    const result = await dvss.cli("status", ingestId, "--raw", "--json");

    expect(result.code).toBe(0);
    const raw = result.json();
    expect(raw).toMatchObject({
      ingestId,
      encoding: "utf8",
      rawRef: { key: expect.stringContaining(ingestId) },
    });
    expect(JSON.parse(raw.body)).toEqual({ ...seedEnvelope, externalEventId: "raw-json-1" });
    expect(raw.bytes).toBe(Buffer.byteLength(raw.body));
  });

  it("exits 3 for an unknown ingestId", async () => {
    const result = await dvss.cli("status", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "--raw");

    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("No event 01ARZ3NDEKTSV4RRFFQ69G5FAV");
  });
});

describe("status --raw --json of bytes that are not UTF-8", () => {
  it("carries them as base64, so every byte survives", () => {
    const body = Uint8Array.from([0x7b, 0xff, 0x00, 0xc3, 0x28, 0x7d]);

    const raw = rawJson({ ingestId: "01ARZ3NDEKTSV4RRFFQ69G5FAV", rawRef: { bucket: "b", key: "k" }, body });

    expect(raw).toMatchObject({ encoding: "base64", bytes: 6 });
    expect(Buffer.from(raw.body, "base64").equals(Buffer.from(body))).toBe(true);
  });
});
