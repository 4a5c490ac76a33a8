import { describe, expect, it } from "vitest";
import { decodeBase64, utf8Stream } from "./base64";

describe("base64 terminal output", () => {
  it("decodes raw bytes", () => {
    expect(Array.from(decodeBase64("AAEC/w=="))).toEqual([0, 1, 2, 255]);
  });
  it("joins a UTF-8 character split over two chunks", () => {
    const bytes = new TextEncoder().encode("héllo");
    const dec = utf8Stream();
    expect(dec(bytes.slice(0, 2)) + dec(bytes.slice(2))).toBe("héllo");
  });
});
