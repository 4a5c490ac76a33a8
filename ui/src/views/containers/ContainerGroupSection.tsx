import { ChevronDown, ChevronRight, Layers3 } from "lucide-react";
import { useState } from "react";
import type { ConfirmRequest } from "../../components/ConfirmDialog";
import type { ContainerGroup } from "../../lib/compose";
import { ContainerRow } from "./ContainerRow";

export function ContainerGroupSection({
  group,
  selected,
  onSelect,
  ask,
}: {
  group: ContainerGroup;
  selected: string | null;
  onSelect: (id: string) => void;
  ask: (r: ConfirmRequest) => void;
}) {
  const [open, setOpen] = useState(true);
  return (
    <section className="container-group" data-testid={group.project ? `group-${group.project}` : "group-standalone"}>
      <button type="button" className="group-header" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? <ChevronDown size={16} /> : <ChevronRight size={16} />}
        {group.project ? <Layers3 size={15} className="group-icon" /> : null}
        <span className="group-title">{group.project ?? "Standalone containers"}</span>
        {group.project && <span className="group-kind">compose project</span>}
        <span className="group-count">
          {group.running}/{group.containers.length} running
        </span>
      </button>
      {open && (
        <div className="rows" role="list">
          {group.containers.map((c) => (
            <ContainerRow key={c.Id} container={c} selected={c.Id === selected} onSelect={onSelect} ask={ask} />
          ))}
        </div>
      )}
    </section>
  );
}
