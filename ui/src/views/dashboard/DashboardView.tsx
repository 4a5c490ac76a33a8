import { Box, Clock, Cpu, GraduationCap, HardDrive, MemoryStick } from "lucide-react";
import type { ViewName } from "../../api";
import { Button } from "../../components/Button";
import { PageHeader } from "../../components/PageHeader";
import { diskSummary } from "../../lib/engine";
import { formatMib } from "../../lib/format";
import { useDocker } from "../../state/docker";
import { useEngine } from "../../state/engine";
import { ActivityCard } from "./ActivityCard";
import { EngineCard } from "./EngineCard";
import { PortsCard } from "./PortsCard";
import { StatTile } from "./StatTile";
import { SystemCard } from "./SystemCard";
import { useUptime } from "./useUptime";

export function DashboardView({ onNavigate, onTutorial }: { onNavigate: (v: ViewName) => void; onTutorial: () => void }) {
  const { status } = useEngine();
  const { containers, containersLoaded } = useDocker();
  const uptime = useUptime(status);
  const running = status?.phase === "running";
  const live = containers.filter((c) => c.State === "running").length;
  const disk = diskSummary(status);

  return (
    <div className="page" data-testid="view-dashboard">
      <PageHeader
        title="Dashboard"
        subtitle="Your Linux VM and the container engine inside it."
        actions={
          <Button variant="ghost" icon={<GraduationCap size={16} />} onClick={onTutorial}>
            Tutorial
          </Button>
        }
      />
      <EngineCard />
      <div className="tiles">
        <StatTile icon={<Cpu size={18} />} label="VM CPUs" value={status ? String(status.cpus) : "—"} hint={status?.backend ?? undefined} />
        <StatTile icon={<MemoryStick size={18} />} label="VM memory" value={status ? formatMib(status.memoryMib) : "—"} />
        <StatTile icon={<HardDrive size={18} />} label="VM disk" value={disk.value} hint={disk.hint} testId="dashboard-disk" />
        <StatTile icon={<Clock size={18} />} label="Uptime" value={running ? uptime : "—"} hint={running ? "since the VM booted" : "not running"} />
        <StatTile
          icon={<Box size={18} />}
          label="Containers"
          value={running && containersLoaded ? `${live} / ${containers.length}` : "—"}
          hint="running / all"
          onClick={() => onNavigate("containers")}
        />
      </div>
      <div className="grid-2">
        <PortsCard />
        <SystemCard />
      </div>
      <ActivityCard />
    </div>
  );
}
