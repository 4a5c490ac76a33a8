import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { containersList, dockerEvents, errorMessage, type ContainerSummary } from "../api";
import { Debouncer, refreshTopics, type Topic } from "../lib/events";
import { useEngineRunning } from "./engine";

type Listener = () => void;

interface DockerState {
  containers: ContainerSummary[];
  containersLoaded: boolean;
  containersError: string | null;
  /** Refetches the container list now (after an action, without waiting for its event). */
  refreshContainers(): void;
  /** Calls `fn` (debounced) whenever a Docker event makes `topic` stale; returns unsubscribe. */
  subscribe(topic: Topic, fn: Listener): () => void;
  /** Bumps on every (re)connect of the events stream: views refetch when it changes. */
  generation: number;
}

const DockerContext = createContext<DockerState | null>(null);

/**
 * The live Docker state: one `docker_events` stream while the engine runs; each event marks
 * topics stale and a debounced refetch follows. No polling timers.
 */
export function DockerProvider({ children }: { children: ReactNode }) {
  const running = useEngineRunning();
  const [containers, setContainers] = useState<ContainerSummary[]>([]);
  const [containersLoaded, setLoaded] = useState(false);
  const [containersError, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const listeners = useRef(new Map<Topic, Set<Listener>>());
  const inflight = useRef<Promise<void> | null>(null);
  const again = useRef(false);

  const fetchContainers = useCallback(() => {
    if (inflight.current) {
      again.current = true; // one more fetch after this one: an event came in meanwhile
      return;
    }
    inflight.current = containersList()
      .then((list) => {
        setContainers(list);
        setError(null);
        setLoaded(true);
      })
      .catch((e) => setError(errorMessage(e)))
      .finally(() => {
        inflight.current = null;
        if (again.current) {
          again.current = false;
          fetchContainers();
        }
      });
  }, []);

  const debouncers = useMemo(() => {
    const notify = (topic: Topic) => () => listeners.current.get(topic)?.forEach((fn) => fn());
    return {
      containers: new Debouncer(() => {
        fetchContainers();
        notify("containers")();
      }, 150),
      images: new Debouncer(notify("images"), 250),
      volumes: new Debouncer(notify("volumes"), 250),
    } satisfies Record<Topic, Debouncer>;
  }, [fetchContainers]);

  useEffect(() => {
    if (!running) return;
    fetchContainers();
    setGeneration((g) => g + 1);
    const stream = dockerEvents((event) => {
      for (const topic of refreshTopics(event)) debouncers[topic].schedule();
    });
    stream.ready.catch((e) => setError(`Live updates are off: ${errorMessage(e)}`));
    return () => {
      stream.cancel();
      Object.values(debouncers).forEach((d) => d.cancel());
    };
  }, [running, debouncers, fetchContainers]);

  useEffect(() => {
    if (!running) setLoaded(false);
  }, [running]);

  const subscribe = useCallback((topic: Topic, fn: Listener) => {
    const set = listeners.current.get(topic) ?? new Set();
    set.add(fn);
    listeners.current.set(topic, set);
    return () => {
      set.delete(fn);
    };
  }, []);

  const value = useMemo(
    () => ({ containers, containersLoaded, containersError, refreshContainers: fetchContainers, subscribe, generation }),
    [containers, containersLoaded, containersError, fetchContainers, subscribe, generation],
  );
  return <DockerContext.Provider value={value}>{children}</DockerContext.Provider>;
}

export function useDocker(): DockerState {
  const ctx = useContext(DockerContext);
  if (!ctx) throw new Error("useDocker outside DockerProvider");
  return ctx;
}

/**
 * A list fetched while the engine runs and refetched when Docker events make `topic` stale.
 * `reload()` refetches now.
 */
export function useLiveList<T>(topic: Topic, fetcher: () => Promise<T[]>) {
  const { subscribe, generation } = useDocker();
  const running = useEngineRunning();
  const [items, setItems] = useState<T[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;

  const reload = useCallback(() => {
    fetcherRef
      .current()
      .then((list) => {
        setItems(list);
        setError(null);
        setLoaded(true);
      })
      .catch((e) => {
        setError(errorMessage(e));
        setLoaded(true);
      });
  }, []);

  useEffect(() => {
    if (!running) return;
    reload();
    return subscribe(topic, reload);
  }, [running, generation, topic, subscribe, reload]);

  return { items, loaded, error, reload };
}
