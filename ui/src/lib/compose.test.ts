import { describe, expect, it } from "vitest";
import type { ContainerSummary } from "../api/types";
import { groupContainers } from "./compose";

function c(name: string, state: string, labels: Record<string, string> = {}): ContainerSummary {
  return { Id: `${name}-id`, Names: [`/${name}`], Image: "img", Created: 0, State: state, Status: "", Ports: [], Labels: labels };
}
const proj = (p: string, s: string) => ({ "com.docker.compose.project": p, "com.docker.compose.service": s });

describe("groupContainers", () => {
  const list = [
    c("solo", "running"),
    c("shop-web-1", "running", proj("shop", "web")),
    c("blog-db-1", "exited", proj("blog", "db")),
    c("shop-db-1", "running", proj("shop", "db")),
    c("another", "exited"),
  ];

  it("puts projects in name order, standalone last, services sorted", () => {
    const groups = groupContainers(list);
    expect(groups.map((g) => g.key)).toEqual(["project:blog", "project:shop", "standalone"]);
    expect(groups[1].containers.map((x) => x.Names[0])).toEqual(["/shop-db-1", "/shop-web-1"]);
    expect(groups[2].containers.map((x) => x.Names[0])).toEqual(["/another", "/solo"]);
  });

  it("counts running containers per group", () => {
    expect(groupContainers(list).map((g) => g.running)).toEqual([0, 2, 1]);
  });

  it("filters by name, image or project and drops empty groups", () => {
    expect(groupContainers(list, "shop").map((g) => g.key)).toEqual(["project:shop"]);
    expect(groupContainers(list, "SOLO")[0].containers).toHaveLength(1);
    expect(groupContainers(list, "nothing-matches")).toEqual([]);
  });
});
