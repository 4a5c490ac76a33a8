import { call, openStream, type StreamHandle } from "./backend";
import type { TerminalOutput } from "./types";

export interface TerminalOpen {
  containerId: string;
  cmd: string[] | null;
  cols: number;
  rows: number;
}

/** Opens an exec with a TTY; `cancel()` on the handle sends `terminal_close`. */
export function terminalOpen(opts: TerminalOpen, onOutput: (out: TerminalOutput) => void): StreamHandle {
  return openStream<TerminalOutput>("terminal_open", { ...opts }, "onOutput", onOutput, "terminal_close");
}

export const terminalInput = (id: number, data: string) => call<null>("terminal_input", { id, data });
export const terminalResize = (id: number, cols: number, rows: number) =>
  call<null>("terminal_resize", { id, cols, rows });
export const terminalClose = (id: number) => call<null>("terminal_close", { id });
