import type { PullProgress } from "../api/types";

export type LayerPhase = "waiting" | "downloading" | "downloaded" | "extracting" | "done";

export interface LayerProgress {
  id: string;
  phase: LayerPhase;
  status: string;
  current: number;
  total: number;
}

export interface PullState {
  reference: string;
  layers: LayerProgress[];
  /** 0..1 over all layers (download counts 80 %, extraction 20 % of each layer). */
  fraction: number;
  downloadedBytes: number;
  totalBytes: number;
  /** The latest status line without a layer id ("Pulling from ...", "Digest: ..."). */
  message: string;
  done: boolean;
  error: string | null;
}

export function newPull(reference: string): PullState {
  return {
    reference,
    layers: [],
    fraction: 0,
    downloadedBytes: 0,
    totalBytes: 0,
    message: "Starting…",
    done: false,
    error: null,
  };
}

function phaseOf(status: string): LayerPhase | null {
  const s = status.toLowerCase();
  if (s.startsWith("pulling fs layer") || s.startsWith("waiting")) return "waiting";
  if (s.startsWith("downloading")) return "downloading";
  if (s.startsWith("verifying checksum") || s.startsWith("download complete")) return "downloaded";
  if (s.startsWith("extracting")) return "extracting";
  if (s.startsWith("pull complete") || s.startsWith("already exists")) return "done";
  return null;
}

function layerFraction(l: LayerProgress): number {
  const part = l.total > 0 ? Math.min(1, l.current / l.total) : 0;
  switch (l.phase) {
    case "waiting":
      return 0;
    case "downloading":
      return 0.8 * part;
    case "downloaded":
      return 0.8;
    case "extracting":
      return 0.8 + 0.2 * part;
    case "done":
      return 1;
  }
}

/** Folds one progress line into the pull's state (pure: returns a new state). */
export function applyProgress(state: PullState, line: PullProgress): PullState {
  if (line.error) return { ...state, error: line.error, done: true };
  const status = line.status ?? "";
  const phase = line.id ? phaseOf(status) : null;
  if (!line.id || phase === null) {
    const finished = /^Status: (Downloaded newer image|Image is up to date)/.test(status);
    // Lines like "latest: Pulling from library/alpine" carry the tag as id.
    const message = line.id && !status.startsWith("Pulling from") ? `${line.id}: ${status}` : status;
    return { ...state, message: message || state.message, done: state.done || finished };
  }
  const layers = [...state.layers];
  const index = layers.findIndex((l) => l.id === line.id);
  const prev = index >= 0 ? layers[index] : null;
  const detail = line.progressDetail ?? {};
  const next: LayerProgress = {
    id: line.id,
    phase,
    status,
    current: detail.current ?? (phase === "done" || phase === "downloaded" ? (prev?.total ?? 0) : 0),
    total: detail.total ?? prev?.total ?? 0,
  };
  if (index >= 0) layers[index] = next;
  else layers.push(next);
  return summarize({ ...state, layers });
}

function summarize(state: PullState): PullState {
  const { layers } = state;
  const fraction = layers.length ? layers.reduce((sum, l) => sum + layerFraction(l), 0) / layers.length : 0;
  let downloadedBytes = 0;
  let totalBytes = 0;
  for (const l of layers) {
    if (l.total <= 0) continue;
    totalBytes += l.total;
    if (l.phase === "downloading") downloadedBytes += Math.min(l.current, l.total);
    else if (l.phase !== "waiting") downloadedBytes += l.total;
  }
  return { ...state, fraction, downloadedBytes, totalBytes };
}

/** The pull finished well: call when `image_pull` resolved. */
export function completePull(state: PullState): PullState {
  return {
    ...state,
    done: true,
    fraction: 1,
    layers: state.layers.map((l) => ({ ...l, phase: "done" as const })),
  };
}

export function failPull(state: PullState, error: string): PullState {
  return { ...state, done: true, error };
}
