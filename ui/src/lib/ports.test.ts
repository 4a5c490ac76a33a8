import { describe, expect, it } from "vitest";
import { portLinks } from "./ports";

describe("portLinks", () => {
  it("links published tcp ports and collapses the IPv4/IPv6 pair", () => {
    const links = portLinks([
      { IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp" },
      { IP: "::", PrivatePort: 80, PublicPort: 8080, Type: "tcp" },
      { PrivatePort: 443, Type: "tcp" },
      { IP: "127.0.0.1", PrivatePort: 53, PublicPort: 5353, Type: "udp" },
    ]);
    expect(links.map((l) => [l.label, l.url])).toEqual([
      ["0.0.0.0:8080→80", "http://localhost:8080"],
      ["127.0.0.1:5353→53/udp", null],
      ["443/tcp", null],
    ]);
  });
  it("keeps a loopback bind's address in the URL", () => {
    expect(portLinks([{ IP: "127.0.0.1", PrivatePort: 80, PublicPort: 18080, Type: "tcp" }])[0].url).toBe(
      "http://127.0.0.1:18080",
    );
  });
  it("handles no ports", () => {
    expect(portLinks(undefined)).toEqual([]);
  });
});
