import { useSyncExternalStore } from "react";
import { errorMessage, imagePull } from "../api";
import { applyProgress, completePull, failPull, newPull, type PullState } from "../lib/pull";

/** Pulls in progress, kept outside React so they survive switching views. */
let pulls: PullState[] = [];
const listeners = new Set<() => void>();

function set(next: PullState[]) {
  pulls = next;
  listeners.forEach((fn) => fn());
}

function update(reference: string, fn: (p: PullState) => PullState) {
  set(pulls.map((p) => (p.reference === reference && !p.done ? fn(p) : p)));
}

/** Starts a pull; resolves to the error message, or null when it worked. */
export async function startPull(reference: string): Promise<string | null> {
  set([newPull(reference), ...pulls.filter((p) => p.reference !== reference)]);
  // Progress lines arrive many per second per layer: fold them, render at most once a frame.
  let queued: Parameters<typeof applyProgress>[1][] = [];
  let frame = 0;
  const flush = () => {
    frame = 0;
    const batch = queued;
    queued = [];
    update(reference, (p) => batch.reduce(applyProgress, p));
  };
  try {
    await imagePull(reference, (line) => {
      queued.push(line);
      if (!frame) frame = requestAnimationFrame(flush);
    });
    if (frame) cancelAnimationFrame(frame);
    flush();
    update(reference, completePull);
    return null;
  } catch (e) {
    if (frame) cancelAnimationFrame(frame);
    flush();
    const message = errorMessage(e);
    update(reference, (p) => failPull(p, message));
    return message;
  }
}

export function dismissPull(reference: string) {
  set(pulls.filter((p) => p.reference !== reference));
}

export function usePulls(): PullState[] {
  return useSyncExternalStore(
    (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    () => pulls,
  );
}
