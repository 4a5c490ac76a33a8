import { describe, expect, it } from "vitest";
import { buildRunSpec, emptyRunForm, splitCommand } from "./runForm";

describe("splitCommand", () => {
  it("splits like a shell", () => {
    expect(splitCommand(`sh -c 'echo "hi there"' x\\ y`)).toEqual(["sh", "-c", 'echo "hi there"', "x y"]);
    expect(splitCommand(`  `)).toEqual([]);
    expect(splitCommand(`echo ""`)).toEqual(["echo", ""]);
    expect(() => splitCommand(`echo 'oops`)).toThrow(/quote/);
  });
});

describe("buildRunSpec", () => {
  it("builds the contract's RunSpec, ignoring empty rows", () => {
    const r = buildRunSpec({
      ...emptyRunForm("berth/hello"),
      name: "web",
      ports: [
        { hostPort: "8080", containerPort: "80", protocol: "tcp" },
        { hostPort: "", containerPort: "", protocol: "tcp" },
      ],
      volumes: [{ source: "/home/me/site", target: "/var/www", readOnly: true }],
      env: [{ key: "MODE", value: "a=b" }],
      cmd: "httpd -f",
    });
    expect(r).toEqual({
      ok: true,
      spec: {
        image: "berth/hello",
        name: "web",
        cmd: ["httpd", "-f"],
        env: ["MODE=a=b"],
        ports: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }],
        volumes: [{ source: "/home/me/site", target: "/var/www", readOnly: true }],
      },
    });
  });

  it("names each bad field", () => {
    const r = buildRunSpec({
      ...emptyRunForm(""),
      name: "-bad",
      ports: [
        { hostPort: "99999", containerPort: "80", protocol: "tcp" },
      ],
      volumes: [{ source: "data", target: "relative", readOnly: false }],
      env: [{ key: "A B", value: "1" }],
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual(["env.0", "image", "name", "ports.0", "volumes.0"]);
  });

  it("refuses the same host port twice", () => {
    const r = buildRunSpec({
      ...emptyRunForm("x"),
      ports: [
        { hostPort: "80", containerPort: "80", protocol: "tcp" },
        { hostPort: "80", containerPort: "81", protocol: "tcp" },
      ],
    });
    expect(r.ok ? null : r.errors["ports.1"]).toMatch(/twice/);
  });
});
