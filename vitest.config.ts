import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "infra/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Handlers log as they do in Lambda; tests that expect failures need not print them.
    env: { POWERTOOLS_LOG_LEVEL: "CRITICAL" },
  },
});
