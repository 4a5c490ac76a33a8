// Log view logic: timestamps, search highlighting, a bounded buffer.

export interface LogEntry {
  seq: number;
  stream: "stdout" | "stderr";
  ts: string | null;
  text: string;
}

const TS_RE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))\s?/;

/** Splits the RFC 3339 timestamp docker puts in front of a line when asked for timestamps. */
export function splitTimestamp(line: string): { ts: string | null; text: string } {
  const m = TS_RE.exec(line);
  if (!m) return { ts: null, text: line };
  return { ts: m[1], text: line.slice(m[0].length) };
}

/** "2024-05-01T10:20:30.123456789Z" -> "10:20:30.123" (UTC, as docker sends it). */
export function shortTimestamp(ts: string): string {
  const m = /T(\d\d:\d\d:\d\d)(\.\d{1,3})?/.exec(ts);
  return m ? `${m[1]}${m[2] ?? ""}` : ts;
}

/** Strips a trailing newline (the engine may deliver "text\n") and ANSI colour codes. */
export function cleanLine(text: string): string {
  return stripAnsi(text.replace(/\r?\n$/, ""));
}

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI_RE, "");
}

export interface Segment {
  text: string;
  match: boolean;
}

/** Splits `text` into plain and matching parts for `query` (case-insensitive, literal). */
export function highlight(text: string, query: string): Segment[] {
  if (!query) return [{ text, match: false }];
  const hay = text.toLowerCase();
  const needle = query.toLowerCase();
  const out: Segment[] = [];
  let from = 0;
  for (;;) {
    const at = hay.indexOf(needle, from);
    if (at < 0) break;
    if (at > from) out.push({ text: text.slice(from, at), match: false });
    out.push({ text: text.slice(at, at + needle.length), match: true });
    from = at + needle.length;
  }
  if (from < text.length) out.push({ text: text.slice(from), match: false });
  return out.length ? out : [{ text, match: false }];
}

export function countMatches(entries: LogEntry[], query: string): number {
  if (!query) return 0;
  const needle = query.toLowerCase();
  let n = 0;
  for (const e of entries) if (e.text.toLowerCase().includes(needle)) n += 1;
  return n;
}

export function filterEntries(entries: LogEntry[], query: string, onlyMatches: boolean): LogEntry[] {
  if (!onlyMatches || !query) return entries;
  const needle = query.toLowerCase();
  return entries.filter((e) => e.text.toLowerCase().includes(needle));
}

/** Appends and keeps the newest `max` entries (a long-running follow must not grow forever). */
export function appendBounded<T>(buffer: T[], items: T[], max: number): T[] {
  if (!items.length) return buffer;
  const merged = buffer.concat(items);
  return merged.length > max ? merged.slice(merged.length - max) : merged;
}
