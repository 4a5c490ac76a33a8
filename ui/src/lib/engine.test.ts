import { describe, expect, it } from "vitest";
import { bootProgress, describeClient, engineBlocker, phaseInfo } from "./engine";

describe("engine phases", () => {
  it("groups phases into the four states the issue names", () => {
    expect(phaseInfo("booting").tone).toBe("starting");
    expect(phaseInfo("engine-starting").tone).toBe("starting");
    expect(phaseInfo("running").tone).toBe("running");
    expect(phaseInfo("stopped").tone).toBe("stopped");
    expect(phaseInfo("failed").tone).toBe("error");
  });
  it("shows boot progress", () => {
    expect(bootProgress("waiting-for-agent")).toEqual(["done", "active", "pending", "pending"]);
    expect(bootProgress("running")).toEqual(["done", "done", "done", "done"]);
    expect(bootProgress("stopped")).toEqual(["pending", "pending", "pending", "pending"]);
    expect(bootProgress("failed", new Set(["booting", "waiting-for-agent"]))).toEqual(["done", "failed", "pending", "pending"]);
  });
  it("explains why the Docker views are empty", () => {
    expect(engineBlocker(null)).toMatch(/Connecting/);
    const failed = { phase: "failed", lastError: "QEMU exited: no KVM" } as never;
    expect(engineBlocker(failed)).toBe("QEMU exited: no KVM");
  });
  it("names docker clients", () => {
    expect(describeClient("Docker-Client/28.3.0 (linux)")).toBe("docker CLI 28.3.0");
    expect(describeClient("docker-compose/2.1")).toBe("docker-compose/2.1");
  });
});
