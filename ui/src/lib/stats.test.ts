import { describe, expect, it } from "vitest";
import type { StatsSample } from "../api/types";
import { memoryFraction, pushSample, sparklinePath } from "./stats";

const s = (rx: number, mem = 50): StatsSample => ({
  cpuPercent: 1, memoryBytes: mem, memoryLimit: 100, netRxBytes: rx, netTxBytes: 0, blockReadBytes: 0, blockWriteBytes: 0, pids: 1,
});

describe("stats", () => {
  it("derives rates from counters and keeps a window", () => {
    let h = pushSample([], s(100), 3);
    h = pushSample(h, s(400), 3);
    expect(h[1].netRxRate).toBe(300);
    h = pushSample(h, s(50), 3); // restarted container: counter went down
    expect(h[2].netRxRate).toBe(0);
    h = pushSample(h, s(60), 3);
    expect(h).toHaveLength(3);
  });
  it("draws a sparkline inside its box", () => {
    const d = sparklinePath([0, 5, 10], 100, 20);
    expect(d).toBe("M0.0,19.0 L50.0,10.0 L100.0,1.0");
    expect(sparklinePath([], 100, 20)).toBe("");
    expect(sparklinePath([1, 1], 10, 10, 100)).toBe("M0.0,8.9 L10.0,8.9");
  });
  it("computes memory use", () => expect(memoryFraction(s(0, 25))).toBe(0.25));
});
