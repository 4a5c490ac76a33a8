import { Box, Search } from "lucide-react";
import { useDeferredValue, useEffect, useMemo, useState } from "react";
import { Banner } from "../../components/Banner";
import { EmptyState } from "../../components/EmptyState";
import { PageHeader } from "../../components/PageHeader";
import { useConfirm } from "../../components/useConfirm";
import { groupContainers } from "../../lib/compose";
import { engineBlocker } from "../../lib/engine";
import { pluralize } from "../../lib/format";
import { useDocker } from "../../state/docker";
import { useEngine } from "../../state/engine";
import { EngineBlocked } from "../EngineBlocked";
import { ContainerDetail } from "./ContainerDetail";
import { ContainerGroupSection } from "./ContainerGroupSection";

export function ContainersView({ selected, onSelect }: { selected: string | null; onSelect: (id: string | null) => void }) {
  const { status } = useEngine();
  const { containers, containersLoaded, containersError } = useDocker();
  const [query, setQuery] = useState("");
  const deferred = useDeferredValue(query);
  const groups = useMemo(() => groupContainers(containers, deferred), [containers, deferred]);
  const { ask, dialog } = useConfirm();
  const blocker = engineBlocker(status);
  const current = containers.find((c) => c.Id === selected) ?? null;

  useEffect(() => {
    if (selected && containersLoaded && !current) onSelect(null);
  }, [selected, containersLoaded, current, onSelect]);

  const running = containers.filter((c) => c.State === "running").length;

  return (
    <div className={`page page-split${current ? " has-detail" : ""}`} data-testid="view-containers">
      <div className="split-list">
        <PageHeader
          title="Containers"
          subtitle={containersLoaded ? `${pluralize(containers.length, "container")}, ${running} running` : "Live from the engine's event stream."}
          actions={
            <label className="search">
              <Search size={15} />
              <input type="search" placeholder="Filter by name, image, project" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="containers-filter" />
            </label>
          }
        />
        {blocker ? (
          <EngineBlocked message={blocker} />
        ) : (
          <>
            {containersError && <Banner tone="danger" title="Could not list containers">{containersError}</Banner>}
            {containersLoaded && containers.length === 0 && (
              <EmptyState icon={<Box size={28} />} title="No containers yet">
                Run one from the <b>Images</b> view, or from your terminal:
                <pre className="code-block">docker run -d -p 8080:80 berth/hello</pre>
              </EmptyState>
            )}
            {containersLoaded && containers.length > 0 && groups.length === 0 && (
              <EmptyState icon={<Search size={28} />} title="Nothing matches">
                No container matches “{deferred}”.
              </EmptyState>
            )}
            <div className="container-groups" data-testid="container-list">
              {groups.map((g) => (
                <ContainerGroupSection key={g.key} group={g} selected={selected} onSelect={onSelect} ask={ask} />
              ))}
            </div>
          </>
        )}
      </div>
      {current && !blocker && <ContainerDetail key={current.Id} container={current} onClose={() => onSelect(null)} />}
      {dialog}
    </div>
  );
}
