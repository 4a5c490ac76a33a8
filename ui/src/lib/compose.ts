import type { ContainerSummary } from "../api/types";
import { containerName } from "./format";

export const COMPOSE_PROJECT = "com.docker.compose.project";
export const COMPOSE_SERVICE = "com.docker.compose.service";

export interface ContainerGroup {
  /** `project:<name>` or `standalone`. */
  key: string;
  /** The compose project, or null for containers outside any project. */
  project: string | null;
  containers: ContainerSummary[];
  running: number;
}

export function matchesFilter(c: ContainerSummary, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const name = containerName(c.Names, c.Id).toLowerCase();
  return (
    name.includes(q) ||
    c.Image.toLowerCase().includes(q) ||
    c.Id.toLowerCase().startsWith(q) ||
    (c.Labels?.[COMPOSE_PROJECT] ?? "").toLowerCase().includes(q)
  );
}

function sortKey(c: ContainerSummary): string {
  const service = c.Labels?.[COMPOSE_SERVICE];
  return `${service ?? ""}\u0000${containerName(c.Names, c.Id)}`;
}

/**
 * Groups containers by compose project (label `com.docker.compose.project`): projects in
 * name order, then the standalone containers; inside a group by service, then name.
 */
export function groupContainers(list: ContainerSummary[], query = ""): ContainerGroup[] {
  const byProject = new Map<string, ContainerSummary[]>();
  const standalone: ContainerSummary[] = [];
  for (const c of list) {
    if (!matchesFilter(c, query)) continue;
    const project = c.Labels?.[COMPOSE_PROJECT];
    if (project) {
      const bucket = byProject.get(project) ?? [];
      bucket.push(c);
      byProject.set(project, bucket);
    } else {
      standalone.push(c);
    }
  }
  const group = (project: string | null, containers: ContainerSummary[]): ContainerGroup => {
    const sorted = [...containers].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    return {
      key: project === null ? "standalone" : `project:${project}`,
      project,
      containers: sorted,
      running: sorted.filter((c) => c.State === "running").length,
    };
  };
  const groups = [...byProject.keys()].sort().map((p) => group(p, byProject.get(p)!));
  if (standalone.length) groups.push(group(null, standalone));
  return groups;
}
