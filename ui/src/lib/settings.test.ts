import { describe, expect, it } from "vitest";
import type { Settings } from "../api/types";
import { addShare, exposesToNetwork, parseList, settingsEqual, validateSettings } from "./settings";

const base: Settings = { cpus: 2, memoryMib: 4096, diskSizeGib: 64, shares: ["/home/me"], bindAddress: "127.0.0.1", insecureRegistries: [], registryMirrors: [], startAtLogin: false };

describe("settings", () => {
  it("accepts sane values", () => expect(validateSettings(base)).toEqual({}));
  it("names bad fields", () => {
    const e = validateSettings({ ...base, cpus: 0, memoryMib: 100, diskSizeGib: 1, shares: ["rel"], bindAddress: "nope" }, 4);
    expect(Object.keys(e).sort()).toEqual(["bindAddress", "cpus", "diskSizeGib", "memoryMib", "shares"]);
    expect(validateSettings({ ...base, cpus: 8 }, 4).cpus).toMatch(/4/);
  });
  it("adds shares once, absolute only", () => {
    expect(addShare(["/a"], " /b/ ")).toEqual({ shares: ["/a", "/b"] });
    expect(addShare(["/a"], "/a")).toEqual({ error: "This folder is already shared" });
    expect("error" in addShare([], "src")).toBe(true);
    expect(addShare([], "C:\\Users\\me")).toEqual({ shares: ["C:\\Users\\me"] });
  });
  it("compares and warns about LAN exposure", () => {
    expect(settingsEqual(base, { ...base, shares: ["/home/me"] })).toBe(true);
    expect(settingsEqual(base, { ...base, startAtLogin: true })).toBe(false);
    expect(exposesToNetwork("0.0.0.0")).toBe(true);
    expect(exposesToNetwork("127.0.0.1")).toBe(false);
  });
});

describe("registry settings", () => {
  it("reads a typed list", () => {
    expect(parseList(" host.berth.internal:5000, ,10.0.0.5 ")).toEqual(["host.berth.internal:5000", "10.0.0.5"]);
  });
  it("names a registry written as a URL and a mirror without a scheme", () => {
    const errors = validateSettings({ ...base, insecureRegistries: ["http://reg.lan:5000"], registryMirrors: ["mirror.lan"] });
    expect(errors.insecureRegistries).toContain("http://reg.lan:5000");
    expect(errors.registryMirrors).toContain("mirror.lan");
    expect(validateSettings({ ...base, insecureRegistries: ["reg.lan:5000"], registryMirrors: ["https://mirror.lan/"] })).toEqual({});
  });
  it("sees a changed list", () => {
    expect(settingsEqual(base, { ...base, insecureRegistries: ["reg.lan:5000"] })).toBe(false);
  });
});
