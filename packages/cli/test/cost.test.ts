import { describe, expect, it } from "vitest";
import { bufferIo } from "../src/io.ts";
import { runCli } from "../src/main.ts";

describe("dvss cost", () => {
  it("prints the monthly cost at the given rate, with the date of its prices", async () => {
    const io = bufferIo();

    const code = await runCli(["cost", "--rate", "200"], io);

    expect(code).toBe(0);
    expect(io.stdout()).toContain("DVSS on AWS at 200 events/s");
    expect(io.stdout()).toMatch(/total \$[\d,]+ per month/);
  });

  it("gives the model as JSON with --json", async () => {
    const io = bufferIo();

    await runCli(["cost", "--rate", "50", "--json"], io);

    const model = JSON.parse(io.stdout());
    expect(model.eventsPerMonth).toBe(129_600_000);
    expect(model.perEvent.lambdaInvocations).toBe(4);
  });

  it("refuses a rate that is not a positive number (exit 2)", async () => {
    const io = bufferIo();

    const code = await runCli(["cost", "--rate", "fast"], io);

    expect(code).toBe(2);
    expect(io.stderr()).toContain("--rate must be a positive number");
  });
});
