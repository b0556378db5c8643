import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliHarness, startCliHarness } from "./harness.ts";

let dvss: CliHarness;
const ids = new Map<string, string>();

// A snapshot, an adjustment before it that arrives after it (STALE_EVENT), one after it; an order
// whose late regression is skipped.
const EVENTS = [
  {
    externalEventId: "x-s",
    eventType: "inventory_update",
    occurredAt: "2026-01-30T10:00:00Z",
    payload: { sku: "EX-1", qty: 30, warehouse: "ROA" },
  },
  {
    externalEventId: "x-old",
    eventType: "inventory_adjust",
    occurredAt: "2026-01-30T09:00:00Z",
    payload: { sku: "EX-1", qtyChange: -4, warehouse: "ROA" },
  },
  {
    externalEventId: "x-new",
    eventType: "inventory_adjust",
    occurredAt: "2026-01-31T10:00:00Z",
    payload: { sku: "EX-1", qtyChange: 6, warehouse: "ROA" },
  },
  {
    externalEventId: "x-o",
    eventType: "order_created",
    occurredAt: "2026-01-30T10:00:00Z",
    payload: { orderId: "EX-O", warehouse: "ROA", lines: [{ sku: "EX-1", qty: 1 }] },
  },
  {
    externalEventId: "x-p",
    eventType: "order_status",
    occurredAt: "2026-01-30T12:00:00Z",
    payload: { orderId: "EX-O", status: "picked" },
  },
  {
    externalEventId: "x-a",
    eventType: "order_status",
    occurredAt: "2026-01-30T13:00:00Z",
    payload: { orderId: "EX-O", status: "acked" },
  },
].map((event) => ({ vendorId: "vendorA", ...event }));

beforeAll(async () => {
  dvss = await startCliHarness();
  for (const event of EVENTS) ids.set(event.externalEventId, await dvss.postAndSettle(event));
}, 60_000);

afterAll(() => dvss?.close());

describe("dvss explain", () => {
  it("inventory --json: each event in fold order with its running value, ending at the stored quantity, with every divergence", async () => {
    const run = await dvss.cli("explain", "inventory", "ROA", "EX-1", "--json");
    const { data: divergences } = await dvss.entities.divergences.query
      .byEntity({ entityType: "inventory", entityKey: "ROA#EX-1" })
      .go();

    expect(run.code).toBe(0);
    const explanation = run.json();
    expect(
      explanation.steps.map((s: { ingestId: string; effect: string; running: number }) => [
        s.ingestId,
        s.effect,
        s.running,
      ]),
    ).toEqual([
      [ids.get("x-old"), "add", -4],
      [ids.get("x-s"), "set", 30],
      [ids.get("x-new"), "add", 36],
    ]);
    expect(explanation.steps.at(-1).running).toBe(explanation.state.quantityOnHand);
    expect(explanation.steps[0]).toMatchObject({
      vendorId: "vendorA",
      externalEventId: "x-old",
      occurredAt: "2026-01-30T09:00:00Z",
      mappingVersion: expect.any(String),
      rawKey: expect.stringMatching(/^raw\/vendorA\//),
      divergences: [{ kind: "STALE_EVENT" }],
    });
    const listed = explanation.steps.flatMap((s: { divergences: { divergenceId: string }[] }) =>
      s.divergences.map((d) => d.divergenceId),
    );
    expect(listed.sort()).toEqual(divergences.map((d) => d.divergenceId).sort());
  });

  it("order, as text: the skipped status with its divergence, and the stored state at the end", async () => {
    const run = await dvss.cli("explain", "order", "EX-O");

    expect(run.code).toBe(0);
    expect(run.stdout).toContain("order EX-O  3 events, version 3");
    expect(run.stdout).toMatch(/skipped ACKED\s+PICKED/);
    expect(run.stdout).toContain("STATUS_REGRESSION");
    expect(run.stdout).toContain('Stored state: {"orderId":"EX-O","status":"PICKED"');
  });

  it("exits 3 for an entity it never saw, and 2 without its arguments", async () => {
    expect((await dvss.cli("explain", "order", "NOPE")).code).toBe(3);
    expect((await dvss.cli("explain", "inventory", "ROA")).code).toBe(2);
  });
});
