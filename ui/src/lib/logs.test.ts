import { describe, expect, it } from "vitest";
import { appendBounded, cleanLine, countMatches, filterEntries, highlight, shortTimestamp, splitTimestamp, type LogEntry } from "./logs";

describe("timestamps", () => {
  it("splits docker's RFC 3339 prefix", () => {
    expect(splitTimestamp("2024-05-01T10:20:30.123456789Z GET / 200")).toEqual({
      ts: "2024-05-01T10:20:30.123456789Z",
      text: "GET / 200",
    });
    expect(splitTimestamp("no timestamp here")).toEqual({ ts: null, text: "no timestamp here" });
    expect(shortTimestamp("2024-05-01T10:20:30.123456789Z")).toBe("10:20:30.123");
  });
  it("cleans newlines and colours", () => {
    expect(cleanLine("\u001b[32mok\u001b[0m\n")).toBe("ok");
  });
});

describe("search", () => {
  it("highlights every case-insensitive match", () => {
    expect(highlight("Error: an error", "error")).toEqual([
      { text: "Error", match: true },
      { text: ": an ", match: false },
      { text: "error", match: true },
    ]);
    expect(highlight("plain", "")).toEqual([{ text: "plain", match: false }]);
  });
  const entries: LogEntry[] = ["GET /", "POST /login", "GET /favicon"].map((text, seq) => ({ seq, stream: "stdout", ts: null, text }));
  it("filters and counts", () => {
    expect(countMatches(entries, "get")).toBe(2);
    expect(filterEntries(entries, "get", true).map((e) => e.seq)).toEqual([0, 2]);
    expect(filterEntries(entries, "get", false)).toHaveLength(3);
  });
  it("keeps a bounded buffer", () => {
    expect(appendBounded([1, 2, 3], [4, 5], 4)).toEqual([2, 3, 4, 5]);
  });
});
