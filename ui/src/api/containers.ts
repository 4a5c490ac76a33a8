import { call, openStream, type StreamHandle } from "./backend";
import type {
  ContainerAction,
  ContainerInspect,
  ContainerSummary,
  DockerEvent,
  LogLine,
  RunSpec,
  StatsSample,
} from "./types";

export const containersList = () => call<ContainerSummary[]>("containers_list");
export const containerInspect = (id: string) => call<ContainerInspect>("container_inspect", { id });
export const containerAction = (id: string, action: ContainerAction) =>
  call<null>("container_action", { id, action });
export const containerRemove = (id: string, force: boolean) => call<null>("container_remove", { id, force });
/** Creates and starts a container (pulling the image when missing); resolves to its id. */
export const containerRun = (spec: RunSpec) => call<string>("container_run", { spec });
/** Resolves to the exit code once the container stops. */
export const containerWait = (id: string) => call<number>("container_wait", { id });

export interface LogsOptions {
  follow: boolean;
  timestamps: boolean;
  tail: number | null;
}

export function containerLogs(id: string, opts: LogsOptions, onLine: (line: LogLine) => void): StreamHandle {
  return openStream<LogLine>("container_logs", { id, ...opts }, "onLine", onLine);
}

export function containerStats(id: string, onSample: (sample: StatsSample) => void): StreamHandle {
  return openStream<StatsSample>("container_stats", { id }, "onSample", onSample);
}

export function dockerEvents(onEvent: (event: DockerEvent) => void): StreamHandle {
  return openStream<DockerEvent>("docker_events", {}, "onEvent", onEvent);
}

export const streamCancel = (id: number) => call<null>("stream_cancel", { id });
