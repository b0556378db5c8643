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
    expect(io.stdout()).toMatch(/floor \$[\d,]+ per month, .*: the total is \d+\.\d\d× the floor/);
  });

  it("gives the model as JSON with --json", async () => {
    const io = bufferIo();

    await runCli(["cost", "--rate", "50", "--json"], io);

    const model = JSON.parse(io.stdout());
    expect(model.eventsPerMonth).toBe(129_600_000);
    expect(model.perEvent.lambdaInvocations).toBe(3);
    expect(model.floor.perEvent.lambdaInvocations).toBe(1);
    expect(model.lines.every((line: { floorMonthlyUsd: number }) => line.floorMonthlyUsd >= 0)).toBe(true);
    expect(model.ratioToFloor).toBe(model.totalMonthlyUsd / model.floor.monthlyUsd);
  });

  it("prices at production's Express logging level by default, at another with --logging", async () => {
    const production = bufferIo();
    const dev = bufferIo();

    await runCli(["cost", "--rate", "50", "--json"], production);
    await runCli(["cost", "--rate", "50", "--logging", "ALL"], dev);

    const model = JSON.parse(production.stdout());
    expect(model.inputs.expressLogLevel).toBe("ERROR");
    expect(model.perEvent.expressLogRecords).toBe(0);
    expect(dev.stdout()).toContain("Express level ALL: 16 records per execution");
  });

  it("prices at production's Lambda system log level by default, START/END/REPORT included with --system-logs INFO", async () => {
    const production = bufferIo();
    const dev = bufferIo();

    await runCli(["cost", "--rate", "50", "--json"], production);
    await runCli(["cost", "--rate", "50", "--system-logs", "info", "--json"], dev);

    const model = JSON.parse(production.stdout());
    const devModel = JSON.parse(dev.stdout());
    expect(model.inputs.lambdaSystemLogLevel).toBe("WARN");
    expect(devModel.inputs.lambdaSystemLogLevel).toBe("INFO");
    expect(devModel.perEvent.logBytes - model.perEvent.logBytes).toBe(3 * 450);
  });

  it("refuses a system log level other than INFO or WARN (exit 2)", async () => {
    const io = bufferIo();

    const code = await runCli(["cost", "--rate", "50", "--system-logs", "DEBUG"], io);

    expect(code).toBe(2);
    expect(io.stderr()).toContain("--system-logs must be one of INFO, WARN");
  });

  it("refuses a logging level other than ALL, ERROR or OFF (exit 2)", async () => {
    const io = bufferIo();

    const code = await runCli(["cost", "--rate", "50", "--logging", "DEBUG"], io);

    expect(code).toBe(2);
    expect(io.stderr()).toContain("--logging must be one of ALL, ERROR, OFF");
  });

  it("refuses a rate that is not a positive number (exit 2)", async () => {
    const io = bufferIo();

    const code = await runCli(["cost", "--rate", "fast"], io);

    expect(code).toBe(2);
    expect(io.stderr()).toContain("--rate must be a positive number");
  });
});
