import { beforeEach, describe, expect, it, vi } from "vitest";

const reads: string[] = [];
const priorities: Record<string, number> = { vendorA: 10, vendorB: 20 };

vi.mock("../src/lib/aws.ts", () => ({
  getEntities: () => ({
    vendors: {
      get: ({ vendorId }: { vendorId: string }) => ({
        go: async () => {
          reads.push(vendorId);
          const priority = priorities[vendorId];
          return { data: priority === undefined ? null : { vendorId, priority } };
        },
      }),
    },
  }),
}));

const { MAX_CACHED_VENDORS, vendorPriority } = await import("../src/lib/vendors.ts");

describe("a vendor's priority, as ApplyState reads it per event", () => {
  beforeEach(() => {
    reads.length = 0;
  });

  it("is read once per 30 s, not per event, and again after", async () => {
    const start = 1_000_000;

    const answers = [
      await vendorPriority("vendorA", start),
      await vendorPriority("vendorA", start + 10_000),
      await vendorPriority("vendorA", start + 29_999),
    ];
    priorities.vendorA = 5;
    const later = await vendorPriority("vendorA", start + 30_000);

    expect(answers).toEqual([10, 10, 10]);
    expect(later).toBe(5);
    expect(reads).toEqual(["vendorA", "vendorA"]);
  });

  it("sorts a vendor without a profile after every known one", async () => {
    expect(await vendorPriority("vendorUnknown", 2_000_000)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("keeps at most MAX_CACHED_VENDORS, dropping the least recently read", async () => {
    const now = 3_000_000;
    await vendorPriority("vendorB", now);
    for (let n = 0; n < MAX_CACHED_VENDORS - 1; n++) await vendorPriority(`filler-${n}`, now);
    await vendorPriority("vendorB", now); // used again: not the least recently read
    await vendorPriority("one-too-many", now);
    reads.length = 0;

    await vendorPriority("vendorB", now);
    await vendorPriority("filler-0", now);

    expect(reads).toEqual(["filler-0"]);
  });
});
