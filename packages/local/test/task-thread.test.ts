import { afterEach, describe, expect, it } from "vitest";
import { TaskThread } from "../src/task-thread.ts";

const ECHO = "packages/local/test/fixtures/thread-handlers.echo";
const CRASH = "packages/local/test/fixtures/thread-handlers.crash";

let thread: TaskThread | undefined;
afterEach(async () => {
  await thread?.close();
  thread = undefined;
});

describe("the task thread", () => {
  it("reports a call whose thread died as Lambda.Unknown, which the workflow retries, not as a failure of the event", async () => {
    thread = new TaskThread();

    const failure = await thread.invoke(CRASH, "CrashTask", {}).catch((error: Error) => error);

    expect(failure).toMatchObject({ name: "Lambda.Unknown" });
    expect((failure as Error).message).toMatch(/task thread stopped \(exit 7\)/);
  });

  it("starts a new thread for the next call after one died, instead of leaving every later task unanswered", async () => {
    thread = new TaskThread();
    await thread.invoke(CRASH, "CrashTask", {}).catch(() => undefined);

    const answer = await thread.invoke(ECHO, "EchoTask", { n: 1 });

    expect(answer).toEqual({ echoed: { n: 1 } });
  });
});
