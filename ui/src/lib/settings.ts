import type { Settings } from "../api/types";

export const LIMITS = {
  cpus: { min: 1, max: 64 },
  memoryMib: { min: 512, max: 262144 },
  diskSizeGib: { min: 8, max: 4096 },
};

export type SettingsErrors = Partial<Record<keyof Settings | "newShare", string>>;

/** A comma-separated list as typed (entries trimmed, empty ones dropped). */
export function parseList(text: string): string[] {
  return text
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function isAbsolutePath(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\\\");
}

/** Checks the form before `settings_set`; the backend has the final word and names the bad field. */
export function validateSettings(s: Settings, hostCpus?: number): SettingsErrors {
  const errors: SettingsErrors = {};
  const maxCpus = hostCpus ?? LIMITS.cpus.max;
  if (!Number.isInteger(s.cpus) || s.cpus < LIMITS.cpus.min || s.cpus > maxCpus)
    errors.cpus = `Between ${LIMITS.cpus.min} and ${maxCpus} CPUs`;
  if (!Number.isInteger(s.memoryMib) || s.memoryMib < LIMITS.memoryMib.min || s.memoryMib > LIMITS.memoryMib.max)
    errors.memoryMib = `At least ${LIMITS.memoryMib.min} MiB`;
  if (!Number.isInteger(s.diskSizeGib) || s.diskSizeGib < LIMITS.diskSizeGib.min || s.diskSizeGib > LIMITS.diskSizeGib.max)
    errors.diskSizeGib = `Between ${LIMITS.diskSizeGib.min} and ${LIMITS.diskSizeGib.max} GiB`;
  const bad = s.shares.find((p) => !isAbsolutePath(p));
  if (bad !== undefined) errors.shares = `Not an absolute path: ${bad}`;
  const addr = s.bindAddress.trim();
  if (!(IPV4_RE.test(addr) || addr === "::" || addr === "::1" || addr === "localhost"))
    errors.bindAddress = "An IP address such as 127.0.0.1 or 0.0.0.0";
  const badHost = s.insecureRegistries.find((r) => r.includes("://") || r.includes("/") || /\s/.test(r));
  if (badHost !== undefined) errors.insecureRegistries = `Write host:port, without http:// or a path: ${badHost}`;
  const badMirror = s.registryMirrors.find((m) => !/^https?:\/\/[^\s/]+\/?$/.test(m));
  if (badMirror !== undefined) errors.registryMirrors = `Write http://host:port or https://host: ${badMirror}`;
  return errors;
}

/** Adds a share path: trimmed, trailing slash dropped, no duplicates. Returns the new list or an error. */
export function addShare(shares: string[], path: string): { shares: string[] } | { error: string } {
  let p = path.trim();
  if (!p) return { error: "Type a folder path" };
  if (p.length > 1) p = p.replace(/[\\/]+$/, "");
  if (!isAbsolutePath(p)) return { error: "Use an absolute path, such as /home/you/src" };
  if (shares.includes(p)) return { error: "This folder is already shared" };
  return { shares: [...shares, p] };
}

export function settingsEqual(a: Settings, b: Settings): boolean {
  return (
    a.cpus === b.cpus &&
    a.memoryMib === b.memoryMib &&
    a.diskSizeGib === b.diskSizeGib &&
    a.bindAddress === b.bindAddress &&
    a.startAtLogin === b.startAtLogin &&
    a.insecureRegistries.join(",") === b.insecureRegistries.join(",") &&
    a.registryMirrors.join(",") === b.registryMirrors.join(",") &&
    a.shares.length === b.shares.length &&
    a.shares.every((s, i) => s === b.shares[i])
  );
}

/** The bind address warning: anything but loopback opens published ports to the network. */
export function exposesToNetwork(bindAddress: string): boolean {
  const a = bindAddress.trim();
  return !(a.startsWith("127.") || a === "::1" || a === "localhost");
}
