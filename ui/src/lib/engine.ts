import type { EngineStatus, Phase } from "../api/types";
import type { Tone } from "./containerState";
import { formatBytes } from "./format";

export type EngineTone = "running" | "starting" | "stopped" | "error";

export interface PhaseInfo {
  label: string;
  tone: EngineTone;
  busy: boolean;
}

const INFO: Record<Phase, PhaseInfo> = {
  booting: { label: "Booting the VM", tone: "starting", busy: true },
  "waiting-for-agent": { label: "Waiting for the agent", tone: "starting", busy: true },
  "engine-starting": { label: "Starting the engine", tone: "starting", busy: true },
  running: { label: "Running", tone: "running", busy: false },
  stopping: { label: "Stopping", tone: "starting", busy: true },
  stopped: { label: "Stopped", tone: "stopped", busy: false },
  failed: { label: "Failed", tone: "error", busy: false },
};

export function phaseInfo(phase: Phase | string): PhaseInfo {
  return INFO[phase as Phase] ?? { label: phase, tone: "stopped", busy: false };
}

export function toneToBadge(tone: EngineTone): Tone {
  return tone === "running" ? "success" : tone === "starting" ? "warning" : tone === "error" ? "danger" : "neutral";
}

/** The boot sequence as shown by the dashboard and onboarding step 1. */
export const BOOT_PHASES: Phase[] = ["booting", "waiting-for-agent", "engine-starting", "running"];

export type BootStepState = "done" | "active" | "pending" | "failed";

/** Each boot phase's state given the current phase (and whether the previous attempt failed). */
export function bootProgress(phase: Phase | string, reached: Set<string> = new Set()): BootStepState[] {
  const at = BOOT_PHASES.indexOf(phase as Phase);
  return BOOT_PHASES.map((_p, i) => {
    if (phase === "running") return "done";
    if (phase === "failed") {
      const lastReached = Math.max(-1, ...BOOT_PHASES.map((bp, j) => (reached.has(bp) ? j : -1)));
      if (i < lastReached) return "done";
      return i === Math.max(0, lastReached) ? "failed" : "pending";
    }
    if (at < 0) return "pending";
    if (i < at) return "done";
    return i === at ? "active" : "pending";
  });
}

export function canStart(s: EngineStatus | null): boolean {
  return !s || s.phase === "stopped" || s.phase === "failed";
}

export function canStop(s: EngineStatus | null): boolean {
  return !!s && s.phase !== "stopped" && s.phase !== "stopping" && s.phase !== "failed";
}

/** What a stopped/failed/starting engine means for views that need the Docker API. */
export function engineBlocker(s: EngineStatus | null): string | null {
  if (!s) return "Connecting to Berth…";
  if (s.phase === "running") return null;
  if (s.phase === "failed") return s.lastError ?? "The engine failed to start.";
  if (s.phase === "stopped") return "The engine is stopped.";
  return `${phaseInfo(s.phase).label}…`;
}

/** "Docker-Client/28.3.0 (linux)" -> "docker CLI 28.3.0"; other agents come back as they are. */
export function describeClient(userAgent: string): string {
  const m = /^Docker-Client\/(\S+)/.exec(userAgent);
  return m ? `docker CLI ${m[1]}` : userAgent;
}

/** The dashboard's disk tile: used of total, "in memory" without a data disk, "—" before the agent answers. */
export function diskSummary(s: EngineStatus | null): { value: string; hint: string; missing: boolean } {
  const disk = s?.phase === "running" ? s.disk : null;
  if (!disk) return { value: "—", hint: "not running", missing: false };
  if (!disk.mounted) return { value: "In memory", hint: "no data disk: lost at stop", missing: true };
  const used = Math.max(0, disk.totalBytes - disk.freeBytes);
  return { value: formatBytes(used), hint: `used of ${formatBytes(disk.totalBytes)}`, missing: false };
}
