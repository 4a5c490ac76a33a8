import type { DockerPort } from "../api/types";

export interface PortLink {
  key: string;
  label: string;
  /** Set for published TCP ports: what "open in browser" opens. */
  url: string | null;
}

/** Where a browser reaches a port bound on `ip`: wildcard binds are reached on localhost. */
export function browserHost(ip: string | undefined): string {
  if (!ip || ip === "0.0.0.0" || ip === "::" || ip === "[::]") return "localhost";
  return ip.includes(":") ? `[${ip}]` : ip;
}

/**
 * The ports of a container summary as links. Docker lists a port bound on both 0.0.0.0 and ::
 * twice; those collapse into one. Unpublished ports come last, without a link.
 */
export function portLinks(ports: DockerPort[] | null | undefined): PortLink[] {
  const seen = new Set<string>();
  const published: PortLink[] = [];
  const exposed: PortLink[] = [];
  for (const p of ports ?? []) {
    const type = p.Type || "tcp";
    if (p.PublicPort) {
      const host = browserHost(p.IP);
      const dedupe = `${host === "localhost" ? "*" : host}:${p.PublicPort}/${type}`;
      if (seen.has(dedupe)) continue;
      seen.add(dedupe);
      const shownIp = p.IP && p.IP !== "::" ? p.IP : "0.0.0.0";
      published.push({
        key: dedupe,
        label: `${shownIp}:${p.PublicPort}→${p.PrivatePort}${type === "tcp" ? "" : `/${type}`}`,
        url: type === "tcp" ? `http://${host}:${p.PublicPort}` : null,
      });
    } else {
      const key = `${p.PrivatePort}/${type}`;
      if (seen.has(key)) continue;
      seen.add(key);
      exposed.push({ key, label: key, url: null });
    }
  }
  published.sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true }));
  return [...published, ...exposed];
}
