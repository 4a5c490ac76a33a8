import { describe, expect, it } from "vitest";
import { availableActions, removeNeedsForce, stateTone } from "./containerState";

describe("container state", () => {
  it("offers the actions that make sense", () => {
    expect(availableActions("running")).toEqual(["stop", "restart", "pause", "remove"]);
    expect(availableActions("paused")).toEqual(["unpause", "stop", "remove"]);
    expect(availableActions("exited")).toEqual(["start", "remove"]);
    expect(availableActions("created")).toEqual(["start", "remove"]);
    expect(availableActions("removing")).toEqual([]);
  });
  it("forces removal of live containers only", () => {
    expect(removeNeedsForce("running")).toBe(true);
    expect(removeNeedsForce("exited")).toBe(false);
  });
  it("colours states", () => {
    expect(stateTone("running")).toBe("success");
    expect(stateTone("paused")).toBe("warning");
    expect(stateTone("exited")).toBe("neutral");
    expect(stateTone("dead")).toBe("danger");
  });
});
