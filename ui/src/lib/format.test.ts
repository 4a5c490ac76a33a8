import { describe, expect, it } from "vitest";
import { containerName, formatAgo, formatBytes, formatDuration, formatMib, imageLabel, shortId } from "./format";

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [999, "999 B"],
    [1000, "1.00 kB"],
    [1234567, "1.23 MB"],
    [52_400_000, "52.4 MB"],
    [734_000_000, "734 MB"],
    [8_100_000_000, "8.10 GB"],
    [-1, "—"],
    [Number.NaN, "—"],
  ])("%d -> %s", (n, s) => expect(formatBytes(n)).toBe(s));
});

describe("formatDuration / formatMib", () => {
  it("picks two units", () => {
    expect(formatDuration(45_000)).toBe("45s");
    expect(formatDuration(125_000)).toBe("2m 5s");
    expect(formatDuration(7_380_000)).toBe("2h 3m");
    expect(formatDuration(2 * 86_400_000 + 3_600_000)).toBe("2d 1h");
    expect(formatDuration(null)).toBe("—");
  });
  it("speaks GiB above a GiB", () => {
    expect(formatMib(4096)).toBe("4 GiB");
    expect(formatMib(1536)).toBe("1.5 GiB");
    expect(formatMib(512)).toBe("512 MiB");
  });
});

describe("formatAgo", () => {
  const now = 1_700_000_000_000;
  it("counts back from now", () => {
    expect(formatAgo(now / 1000 - 3, now)).toBe("just now");
    expect(formatAgo(now / 1000 - 61, now)).toBe("1 minute ago");
    expect(formatAgo(now / 1000 - 3 * 3600, now)).toBe("3 hours ago");
    expect(formatAgo(now / 1000 - 400 * 86400, now)).toBe("1 year ago");
  });
});

describe("ids and names", () => {
  it("shortens ids and strips docker's slash", () => {
    expect(shortId("sha256:0123456789abcdef0123")).toBe("0123456789ab");
    expect(containerName(["/web-1"])).toBe("web-1");
    expect(containerName([], "abcdef0123456789")).toBe("abcdef012345");
  });
  it("splits repo and tag, registry ports included", () => {
    expect(imageLabel(["berth/hello:latest"])).toEqual({ repo: "berth/hello", tag: "latest" });
    expect(imageLabel(["localhost:5000/app"])).toEqual({ repo: "localhost:5000/app", tag: "latest" });
    expect(imageLabel(["localhost:5000/app:v2"])).toEqual({ repo: "localhost:5000/app", tag: "v2" });
    expect(imageLabel(["<none>:<none>"])).toEqual({ repo: "<none>", tag: "<none>" });
    expect(imageLabel(null)).toEqual({ repo: "<none>", tag: "<none>" });
  });
});
