// The one module that touches @tauri-apps/api (STYLE.md: the UI reaches Rust through one
// backend module). Everything else calls the typed wrappers in src/api/*.ts.
import { Channel, invoke as tauriInvoke } from "@tauri-apps/api/core";
import { listen as tauriListen } from "@tauri-apps/api/event";

export interface Backend {
  invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T>;
  /** A value to pass as a command argument; `onMessage` gets every message sent on it. */
  channel<T>(onMessage: (message: T) => void): unknown;
  /** Subscribes to an app event from Rust; resolves to the unsubscribe function. */
  listen<T>(event: string, handler: (payload: T) => void): Promise<() => void>;
}

const tauriBackend: Backend = {
  invoke: (cmd, args) => tauriInvoke(cmd, args),
  channel<T>(onMessage: (message: T) => void) {
    const ch = new Channel<T>();
    ch.onmessage = onMessage;
    return ch;
  },
  async listen<T>(event: string, handler: (payload: T) => void) {
    return tauriListen<T>(event, (e) => handler(e.payload));
  },
};

let current: Backend = tauriBackend;

/** Replaces the backend (unit tests, and the dev-only fake under src/dev/). */
export function setBackend(backend: Backend): void {
  current = backend;
}

export function backend(): Backend {
  return current;
}

export function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  return current.invoke<T>(cmd, args);
}

/** A command failure as text: the contract rejects with the engine's own message. */
export function errorMessage(err: unknown): string {
  if (typeof err === "string") return err;
  if (err instanceof Error) return err.message;
  if (err && typeof err === "object" && "message" in err) return String((err as { message: unknown }).message);
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

export interface StreamHandle {
  /** Resolves to the stream (or terminal) id; rejects with the command's error. */
  readonly ready: Promise<number>;
  /** Ends the stream; safe to call at any time, also before `ready` settled, and twice. */
  cancel(): void;
}

/**
 * Opens a stream: makes a channel, passes it as `channelArg` of `cmd`, and returns a handle
 * whose `cancel` sends `cancelCmd {id}` once the id is known. Messages after cancel are dropped.
 */
export function openStream<T>(
  cmd: string,
  args: Record<string, unknown>,
  channelArg: string,
  onMessage: (message: T) => void,
  cancelCmd = "stream_cancel",
): StreamHandle {
  let cancelled = false;
  let id: number | null = null;
  const channel = current.channel<T>((m) => {
    if (!cancelled) onMessage(m);
  });
  const ready = current.invoke<number>(cmd, { ...args, [channelArg]: channel }).then((streamId) => {
    id = streamId;
    if (cancelled) void current.invoke(cancelCmd, { id: streamId }).catch(() => undefined);
    return streamId;
  });
  // Callers that only cancel must not see an unhandled rejection.
  ready.catch(() => undefined);
  return {
    ready,
    cancel() {
      if (cancelled) return;
      cancelled = true;
      if (id !== null) void current.invoke(cancelCmd, { id }).catch(() => undefined);
    },
  };
}
