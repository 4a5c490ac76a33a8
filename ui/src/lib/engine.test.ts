import { describe, expect, it } from "vitest";
import type { EngineStatus } from "../api/types";
import { bootProgress, describeClient, diskSummary, engineBlocker, phaseInfo } from "./engine";

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

describe("the data disk", () => {
  const status = (phase: EngineStatus["phase"], disk: EngineStatus["disk"]): EngineStatus => ({
    daemonRunning: true, phase, lastError: null, backend: "qemu-tcg", cpus: 2, memoryMib: 2048, shares: [],
    dockerSocket: "/tmp/docker.sock", versions: { app: "0.1.0", daemon: "0.1.0", agent: "0.1.0", kernel: "6.1" },
    uptimeMs: 1000, engine: "running", ports: [], portErrors: [], disk,
  });
  it("shows what is used of the disk", () => {
    expect(diskSummary(status("running", { mounted: true, totalBytes: 64e9, freeBytes: 61.5e9 }))).toEqual({
      value: "2.50 GB", hint: "used of 64.0 GB", missing: false,
    });
  });
  it("warns when there is no data disk", () => {
    const s = diskSummary(status("running", { mounted: false, totalBytes: 0, freeBytes: 0 }));
    expect(s.missing).toBe(true);
    expect(s.value).toBe("In memory");
  });
  it("says nothing before the engine runs", () => {
    expect(diskSummary(status("booting", null)).missing).toBe(false);
    expect(diskSummary(null).value).toBe("—");
  });
});
