import type { ContainerAction } from "../api/types";

export type Tone = "success" | "warning" | "danger" | "info" | "neutral";

export function stateTone(state: string): Tone {
  switch (state) {
    case "running":
      return "success";
    case "paused":
    case "restarting":
      return "warning";
    case "dead":
      return "danger";
    case "created":
    case "removing":
      return "info";
    default:
      return "neutral";
  }
}

export type RowAction = ContainerAction | "remove";

/** The actions a container in `state` offers, in toolbar order. Remove is always last. */
export function availableActions(state: string): RowAction[] {
  switch (state) {
    case "running":
      return ["stop", "restart", "pause", "remove"];
    case "paused":
      return ["unpause", "stop", "remove"];
    case "restarting":
      return ["stop", "remove"];
    case "removing":
      return [];
    default:
      return ["start", "remove"];
  }
}

/** A running or paused container is removed with force (the dialog says so). */
export function removeNeedsForce(state: string): boolean {
  return state === "running" || state === "paused" || state === "restarting";
}

export const ACTION_LABELS: Record<RowAction, string> = {
  start: "Start",
  stop: "Stop",
  restart: "Restart",
  pause: "Pause",
  unpause: "Resume",
  kill: "Kill",
  remove: "Remove",
};
