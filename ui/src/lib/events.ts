import type { DockerEvent } from "../api/types";

export type Topic = "containers" | "images" | "volumes";

const CONTAINER_NOISE = new Set(["exec_create", "exec_start", "exec_detach", "top", "resize", "attach", "archive-path", "extract-to-dir", "export", "commit"]);

/** Which lists a Docker event makes stale. */
export function refreshTopics(event: DockerEvent): Set<Topic> {
  const topics = new Set<Topic>();
  const type = event.Type ?? "";
  const action = (event.Action ?? event.status ?? "").split(":")[0].trim();
  switch (type) {
    case "container":
      if (CONTAINER_NOISE.has(action)) break;
      topics.add("containers");
      if (action === "create" || action === "destroy") {
        topics.add("images"); // containers-per-image counts
        topics.add("volumes"); // ref counts, anonymous volumes
      }
      break;
    case "image":
      topics.add("images");
      break;
    case "volume":
      topics.add("volumes");
      break;
    case "daemon":
      // The backend's stream reconnected (events may have been missed), or the engine
      // reloaded: everything may be stale.
      topics.add("containers");
      topics.add("images");
      topics.add("volumes");
      break;
    case "network":
      // Connecting or disconnecting changes what inspect shows, not the lists.
      break;
    default:
      // Engines without `Type` (very old API) still say what happened to a container.
      if (!type && event.id) topics.add("containers");
  }
  return topics;
}

/**
 * Trailing debounce with a cap: bursts (compose up starts ten containers) cause one refetch
 * `waitMs` after the last event, and at least one every `maxWaitMs` while the burst lasts.
 */
export class Debouncer {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private firstAt: number | null = null;

  constructor(
    private readonly fn: () => void,
    private readonly waitMs = 200,
    private readonly maxWaitMs = 1000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  schedule(): void {
    const t = this.now();
    if (this.firstAt === null) this.firstAt = t;
    if (this.timer !== null) clearTimeout(this.timer);
    const remainingCap = this.firstAt + this.maxWaitMs - t;
    const delay = Math.max(0, Math.min(this.waitMs, remainingCap));
    this.timer = setTimeout(() => this.flush(), delay);
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.firstAt = null;
    this.fn();
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.firstAt = null;
  }

  get pending(): boolean {
    return this.timer !== null;
  }
}
