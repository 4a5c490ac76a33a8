import { describe, expect, it } from "vitest";
import type { PullProgress } from "../api/types";
import { applyProgress, completePull, newPull } from "./pull";

const fold = (lines: PullProgress[]) => lines.reduce(applyProgress, newPull("alpine"));

describe("pull progress aggregation", () => {
  it("tracks each layer and averages them", () => {
    const s = fold([
      { status: "Pulling from library/alpine", id: "latest" },
      { status: "Pulling fs layer", id: "a" },
      { status: "Pulling fs layer", id: "b" },
      { status: "Downloading", id: "a", progressDetail: { current: 500, total: 1000 } },
      { status: "Downloading", id: "b", progressDetail: { current: 0, total: 3000 } },
    ]);
    expect(s.layers.map((l) => l.phase)).toEqual(["downloading", "downloading"]);
    expect(s.fraction).toBeCloseTo((0.8 * 0.5 + 0) / 2);
    expect(s.downloadedBytes).toBe(500);
    expect(s.totalBytes).toBe(4000);
    expect(s.message).toBe("Pulling from library/alpine");
    expect(s.done).toBe(false);
  });

  it("counts download complete, extraction and already-existing layers", () => {
    const s = fold([
      { status: "Already exists", id: "a" },
      { status: "Downloading", id: "b", progressDetail: { current: 10, total: 100 } },
      { status: "Download complete", id: "b" },
      { status: "Extracting", id: "b", progressDetail: { current: 50, total: 100 } },
    ]);
    expect(s.layers[1]).toMatchObject({ phase: "extracting", total: 100 });
    expect(s.fraction).toBeCloseTo((1 + 0.8 + 0.1) / 2);
    expect(s.downloadedBytes).toBe(100);
  });

  it("finishes on the final status line and on resolve", () => {
    const s = fold([
      { status: "Pull complete", id: "a" },
      { status: "Digest: sha256:abc" },
      { status: "Status: Downloaded newer image for alpine:latest" },
    ]);
    expect(s.done).toBe(true);
    expect(s.fraction).toBe(1);
    expect(completePull(newPull("x")).fraction).toBe(1);
  });

  it("keeps the registry's error", () => {
    const s = fold([{ error: "manifest unknown" }]);
    expect(s).toMatchObject({ done: true, error: "manifest unknown" });
  });

  it("does not lose a layer's size when later lines omit it", () => {
    const s = fold([
      { status: "Downloading", id: "a", progressDetail: { current: 1, total: 200 } },
      { status: "Verifying Checksum", id: "a", progressDetail: {} },
    ]);
    expect(s.layers[0]).toMatchObject({ phase: "downloaded", total: 200, current: 200 });
  });
});
