import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { engineStatus, engineWatch, errorMessage, type DaemonEvent, type EngineStatus } from "../api";

const MAX_EVENTS = 400;

export interface EngineState {
  status: EngineStatus | null;
  /** Daemon events, oldest first (history included), newest `MAX_EVENTS`. */
  events: DaemonEvent[];
  /** The boot phases seen since the last stop, for progress after a failure. */
  reached: Set<string>;
  /** Set when `engine_watch` itself failed (no backend at all). */
  watchError: string | null;
}

const EngineContext = createContext<EngineState>({ status: null, events: [], reached: new Set(), watchError: null });

/** One `engine_watch` subscription for the whole window. */
export function EngineProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<EngineStatus | null>(null);
  const [events, setEvents] = useState<DaemonEvent[]>([]);
  const [reached, setReached] = useState<Set<string>>(() => new Set());
  const [watchError, setWatchError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    const accept = (s: EngineStatus) => {
      setStatus(s);
      setReached((prev) => {
        if (s.phase === "stopped") return prev.size ? new Set() : prev;
        if (s.phase === "failed" || prev.has(s.phase)) return prev;
        return new Set(prev).add(s.phase);
      });
    };
    engineStatus()
      .then((s) => live && accept(s))
      .catch((e) => live && setWatchError(errorMessage(e)));
    const stream = engineWatch((m) => {
      if (m.kind === "status") {
        accept(m.status);
        setWatchError(null);
      } else {
        setEvents((prev) => {
          const next = prev.concat(m.event);
          return next.length > MAX_EVENTS ? next.slice(next.length - MAX_EVENTS) : next;
        });
      }
    });
    stream.ready.catch((e) => live && setWatchError(errorMessage(e)));
    return () => {
      live = false;
      stream.cancel();
    };
  }, []);

  const value = useMemo(() => ({ status, events, reached, watchError }), [status, events, reached, watchError]);
  return <EngineContext.Provider value={value}>{children}</EngineContext.Provider>;
}

export function useEngine(): EngineState {
  return useContext(EngineContext);
}

export function useEngineRunning(): boolean {
  return useEngine().status?.phase === "running";
}
