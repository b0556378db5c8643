/// <reference path="./.sst/platform/config.d.ts" />

// Nothing but loading stacks/: the composition and every per-stage setting live there.
export default $config({
  async app(input) {
    const { stageSettings } = await import("./stacks/settings.ts");
    const settings = stageSettings(input.stage);
    return {
      name: "dvss",
      home: "aws",
      removal: settings.productionLike ? "retain" : "remove",
      protect: settings.protect,
    };
  },
  async run() {
    const { deployStage } = await import("./stacks/index.ts");
    return deployStage($app.stage);
  },
});
