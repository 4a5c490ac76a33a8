import { Activity, FileText, Search as SearchIcon, SquareTerminal, X } from "lucide-react";
import { useState } from "react";
import type { ContainerSummary } from "../../api";
import { Badge } from "../../components/Badge";
import { Tabs } from "../../components/Tabs";
import { stateTone } from "../../lib/containerState";
import { containerName } from "../../lib/format";
import { InspectTab } from "./InspectTab";
import { LogsTab } from "./LogsTab";
import { StatsTab } from "./StatsTab";
import { TerminalTab } from "./TerminalTab";

type TabKey = "logs" | "terminal" | "inspect" | "stats";

const TABS = [
  { key: "logs" as const, label: "Logs", icon: <FileText size={15} /> },
  { key: "terminal" as const, label: "Terminal", icon: <SquareTerminal size={15} /> },
  { key: "inspect" as const, label: "Inspect", icon: <SearchIcon size={15} /> },
  { key: "stats" as const, label: "Stats", icon: <Activity size={15} /> },
];

export function ContainerDetail({ container: c, onClose }: { container: ContainerSummary; onClose: () => void }) {
  const [tab, setTab] = useState<TabKey>("logs");
  const name = containerName(c.Names, c.Id);
  return (
    <aside className="detail" data-testid="container-detail" aria-label={`Container ${name}`}>
      <header className="detail-header">
        <div className="detail-title">
          <h2>{name}</h2>
          <Badge tone={stateTone(c.State)} dot>
            {c.State}
          </Badge>
        </div>
        <div className="detail-sub mono">{c.Image}</div>
        <button type="button" className="icon-button detail-close" onClick={onClose} aria-label="Close details">
          <X size={18} />
        </button>
      </header>
      <Tabs tabs={TABS} active={tab} onChange={setTab} />
      <div className="detail-body">
        {tab === "logs" && <LogsTab id={c.Id} running={c.State === "running"} />}
        {tab === "terminal" && <TerminalTab container={c} />}
        {tab === "inspect" && <InspectTab id={c.Id} state={c.State} />}
        {tab === "stats" && <StatsTab id={c.Id} running={c.State === "running"} />}
      </div>
    </aside>
  );
}
