// Formatting helpers shared by every view.

const SI_UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];

/** Bytes in docker's own style (decimal units): 1234567 -> "1.23 MB". Negative or NaN -> "—". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return "—";
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < SI_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${SI_UNITS[unit]}`;
}

/** MiB as the VM settings speak: 4096 -> "4 GiB", 1536 -> "1.5 GiB", 512 -> "512 MiB". */
export function formatMib(mib: number): string {
  if (mib >= 1024) {
    const gib = mib / 1024;
    return `${Number.isInteger(gib) ? gib : gib.toFixed(1)} GiB`;
  }
  return `${mib} MiB`;
}

/** A duration: 45_000 -> "45s", 125_000 -> "2m 5s", 7_380_000 -> "2h 3m", 2 days -> "2d 0h". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "—";
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return `${d}d ${h % 24}h`;
}

/** "3 minutes ago" from a unix time in seconds. */
export function formatAgo(unixSeconds: number, nowMs: number = Date.now()): string {
  const diff = Math.max(0, nowMs / 1000 - unixSeconds);
  const table: [number, string][] = [
    [60, "second"],
    [60, "minute"],
    [24, "hour"],
    [30, "day"],
    [12, "month"],
  ];
  let value = diff;
  for (const [size, unit] of table) {
    if (value < size) {
      const n = Math.floor(value);
      if (unit === "second" && n < 10) return "just now";
      return `${n} ${unit}${n === 1 ? "" : "s"} ago`;
    }
    value /= size;
  }
  const years = Math.floor(value);
  return `${years} year${years === 1 ? "" : "s"} ago`;
}

export function formatPercent(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return `${value < 10 ? value.toFixed(1) : Math.round(value)}%`;
}

/** "sha256:0123456789abcdef..." -> "0123456789ab". */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** Docker's `Names` carry a leading slash. */
export function containerName(names: string[] | undefined, id = ""): string {
  const first = names?.[0];
  return first ? first.replace(/^\//, "") : shortId(id);
}

/** Image repo and tag for display; dangling images show "<none>". */
export function imageLabel(repoTags: string[] | null | undefined): { repo: string; tag: string } {
  const first = repoTags?.find((t) => t !== "<none>:<none>");
  if (!first) return { repo: "<none>", tag: "<none>" };
  const at = first.lastIndexOf(":");
  if (at <= first.lastIndexOf("/")) return { repo: first, tag: "latest" };
  return { repo: first.slice(0, at), tag: first.slice(at + 1) };
}

export function pluralize(n: number, word: string, plural = `${word}s`): string {
  return `${n} ${n === 1 ? word : plural}`;
}
