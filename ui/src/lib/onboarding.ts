// The onboarding's state machine and the checks each step uses to decide it worked.
import type { ContainerSummary, DaemonEvent, OnboardingState } from "../api/types";
import { stripAnsi } from "./logs";

export const STEP_COUNT = 7;

export interface StepInfo {
  n: number;
  title: string;
  summary: string;
}

export const STEPS: StepInfo[] = [
  { n: 1, title: "Start the engine", summary: "Boot the Linux VM and Berth's container engine." },
  { n: 2, title: "Run your first container", summary: "Start berth/hello and read what it prints." },
  { n: 3, title: "Publish a port", summary: "Serve a web page from a container on your machine." },
  { n: 4, title: "Share a folder", summary: "Edit a file on your computer, see the container serve it." },
  { n: 5, title: "Open a terminal", summary: "Run a shell inside the running container." },
  { n: 6, title: "Use the docker CLI", summary: "Talk to Berth from your own terminal." },
  { n: 7, title: "Clean up", summary: "Remove the tutorial's containers." },
];

export const TUTORIAL_IMAGE = "berth/hello";
export const TUTORIAL_PREFIX = "berth-tutorial-";
export const HELLO_NAME = `${TUTORIAL_PREFIX}hello`;
export const WEB_NAME = `${TUTORIAL_PREFIX}web`;
export const GREETING = "Hello from your first Berth container!";
export const HELLO_CMD = ["sh", "-c", `echo '${GREETING}'; echo "I am running on $(uname -sr)."`];

export type StepStatus = "idle" | "running" | "done" | "failed";

/** Where the app is in the tutorial (what `onboarding_set` persists, plus what the session knows). */
export interface Tour {
  open: boolean;
  /** 1..7: the step on screen. */
  current: number;
  statuses: StepStatus[];
  saved: OnboardingState;
}

export function clampStep(step: number): number {
  if (!Number.isFinite(step)) return 1;
  return Math.min(STEP_COUNT, Math.max(1, Math.floor(step)));
}

/** First launch: open unless the user finished or skipped it before. */
export function shouldAutoOpen(saved: OnboardingState): boolean {
  return !saved.completed && !saved.skipped;
}

/** Opens the tour where it was left (resume); a finished tour starts over. */
export function openTour(saved: OnboardingState): Tour {
  const current = saved.completed ? 1 : clampStep(saved.step);
  const statuses: StepStatus[] = Array.from({ length: STEP_COUNT }, () => "idle");
  return { open: true, current, statuses, saved: { ...saved, skipped: false } };
}

export function setStatus(tour: Tour, n: number, status: StepStatus): Tour {
  const statuses = [...tour.statuses];
  statuses[n - 1] = status;
  return { ...tour, statuses };
}

/**
 * A step passed: marks it and returns the state to persist (the next step, or completed
 * after the last). The user still presses Next to move on, so they can read the result.
 */
export function completeStep(tour: Tour, n: number): { tour: Tour; persist: OnboardingState } {
  const marked = setStatus(tour, n, "done");
  const completed = n >= STEP_COUNT || tour.saved.completed;
  const persist: OnboardingState = {
    completed,
    skipped: false,
    step: completed ? STEP_COUNT : Math.max(tour.saved.step, clampStep(n + 1)),
  };
  return { tour: { ...marked, saved: persist }, persist };
}

export function canGoNext(tour: Tour): boolean {
  return tour.current < STEP_COUNT && tour.statuses[tour.current - 1] === "done";
}

export function goTo(tour: Tour, n: number): Tour {
  return { ...tour, current: clampStep(n) };
}

/** Skip: close, and remember where the user was so Help → Tutorial resumes there. */
export function skipTour(tour: Tour): { tour: Tour; persist: OnboardingState } {
  const persist: OnboardingState = { completed: tour.saved.completed, skipped: true, step: tour.current };
  return { tour: { ...tour, open: false, saved: persist }, persist };
}

export function finishTour(tour: Tour): { tour: Tour; persist: OnboardingState } {
  const persist: OnboardingState = { completed: true, skipped: false, step: STEP_COUNT };
  return { tour: { ...tour, open: false, saved: persist }, persist };
}

// ---- checks ----

/** Step 2: the greeting is in the container's output. */
export function greetingSeen(lines: string[]): boolean {
  return lines.some((l) => l.includes(GREETING));
}

/** Step 3: the probe answered with the page. */
export function pageServed(status: number, body: string): boolean {
  return status >= 200 && status < 300 && body.trim().length > 0;
}

/** Step 4: the page the tutorial writes carries a fresh token; seeing it proves the share works. */
export function makeToken(now = Date.now()): string {
  return `berth-${now.toString(36)}`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** The page step 4 writes on the host via `tutorial_edit`. */
export function tutorialPage(message: string, token: string): string {
  const msg = escapeHtml(message);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${msg}</title>
<style>
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
font:18px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f7fb;color:#1c2733}
main{background:#fff;border:1px solid #dde5ee;border-radius:16px;padding:32px 40px;max-width:560px}
h1{margin:0 0 8px;font-size:28px}p{color:#5b6b7c;margin:0}code{background:#eef2f7;border-radius:6px;padding:2px 6px}
@media (prefers-color-scheme: dark){body{background:#0f1620;color:#e3eaf2}main{background:#17212d;border-color:#263444}p{color:#9aa9b8}code{background:#1f2b39}}
</style></head>
<body><main><h1>${msg}</h1>
<p>This file was written on your computer and served by a container through a shared folder.</p>
<p><code data-token="${token}">${token}</code></p></main></body></html>
`;
}

export function pageHasToken(body: string, token: string): boolean {
  return body.includes(token);
}

/** Step 5's suggested command; the shell's arithmetic proves it really ran. */
export const TERMINAL_COMMAND = 'echo "Berth says $((6 * 7))"';
export const TERMINAL_EXPECT = "Berth says 42";

/**
 * Step 5's check: fed what the user typed and what the TTY printed, it is satisfied once a
 * command the user entered produced output: a line after the Enter that is neither the echo
 * of the command nor a bare prompt (or the suggested command's answer appears).
 */
export class TerminalCheck {
  private typed = "";
  private pendingCommand: string | null = null;
  private output = "";
  satisfied = false;

  input(data: string): void {
    for (const ch of data) {
      if (ch === "\r" || ch === "\n") {
        if (this.typed.trim()) {
          this.pendingCommand = this.typed.trim();
          this.output = "";
        }
        this.typed = "";
      } else if (ch === "\u007f" || ch === "\b") {
        this.typed = this.typed.slice(0, -1);
      } else if (ch >= " ") {
        this.typed += ch;
      }
    }
  }

  feed(text: string): boolean {
    if (this.satisfied) return true;
    const clean = stripAnsi(text);
    if (clean.includes(TERMINAL_EXPECT)) return (this.satisfied = true);
    if (this.pendingCommand === null) return false;
    this.output += clean;
    const lines = this.output.split(/\r?\n|\r/);
    // The last piece may be an unfinished line (or the next prompt): look only at complete ones.
    for (const raw of lines.slice(0, -1)) {
      const line = raw.trim();
      if (!line) continue;
      if (line.endsWith(this.pendingCommand)) continue; // the TTY's echo, maybe after a prompt
      if (/^[^\s]*[#$>]$/.test(line)) continue; // a bare prompt
      return (this.satisfied = true);
    }
    return false;
  }
}

/** Step 6: a docker CLI request seen by the daemon after the step began. */
export function isCliEvent(event: DaemonEvent, sinceMs: number): boolean {
  return event.kind === "docker-client" && event.message.startsWith("Docker-Client/") && event.unixMs > sinceMs;
}

export function findCliEvent(events: DaemonEvent[], sinceMs: number): DaemonEvent | null {
  return events.find((e) => isCliEvent(e, sinceMs)) ?? null;
}

/** Step 7: the containers the tutorial made. */
export function tutorialContainers(list: ContainerSummary[]): ContainerSummary[] {
  return list.filter((c) => (c.Names ?? []).some((n) => n.replace(/^\//, "").startsWith(TUTORIAL_PREFIX)));
}

export function findByName(list: ContainerSummary[], name: string): ContainerSummary | null {
  return list.find((c) => (c.Names ?? []).some((n) => n.replace(/^\//, "") === name)) ?? null;
}
