import { describe, expect, it } from "vitest";
import { seedEnvelope, startHarness, tempDir } from "./harness.ts";

// Its own file: each runtime re-points the process's handlers at its stores.
const envelope = (externalEventId: string) => ({ ...seedEnvelope, externalEventId });

describe("restarting the local runtime", () => {
  it("keeps the data: the same event after a restart is a DUPLICATE of the first", async () => {
    const dataDir = tempDir("dvss-restart-");
    const first = await startHarness({ dataDir });
    const accepted = await first.post(envelope("restart-1"));
    await first.close();

    const second = await startHarness({ dataDir });
    try {
      const again = await second.post(envelope("restart-1"));

      expect(accepted.body.status).toBe("ACCEPTED");
      expect(again.body).toEqual({ status: "DUPLICATE", ingestId: accepted.body.ingestId });
    } finally {
      await second.close();
    }
  });
});
