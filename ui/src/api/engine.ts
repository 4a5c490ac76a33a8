import { call, openStream, type StreamHandle } from "./backend";
import type { EngineStatus, EngineWatch } from "./types";

export const engineStatus = () => call<EngineStatus>("engine_status");
export const engineStart = () => call<null>("engine_start");
export const engineStop = () => call<null>("engine_stop");
export const engineRestart = () => call<null>("engine_restart");

/** Status first and after every daemon event, then each daemon event (history first). */
export function engineWatch(onEvent: (message: EngineWatch) => void): StreamHandle {
  return openStream<EngineWatch>("engine_watch", {}, "onEvent", onEvent);
}
