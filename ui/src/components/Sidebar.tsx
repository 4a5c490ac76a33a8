import { Box, GraduationCap, HardDrive, Layers, LayoutDashboard, Settings } from "lucide-react";
import type { ViewName } from "../api";
import { useDocker } from "../state/docker";
import { StatusPill } from "./StatusPill";
import { Logo } from "./Logo";

const NAV: { view: ViewName; label: string; icon: typeof Box }[] = [
  { view: "dashboard", label: "Dashboard", icon: LayoutDashboard },
  { view: "containers", label: "Containers", icon: Box },
  { view: "images", label: "Images", icon: Layers },
  { view: "volumes", label: "Volumes", icon: HardDrive },
  { view: "settings", label: "Settings", icon: Settings },
];

export function Sidebar({ view, onNavigate, onTutorial }: { view: ViewName; onNavigate: (v: ViewName) => void; onTutorial: () => void }) {
  const { containers } = useDocker();
  const running = containers.filter((c) => c.State === "running").length;
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="sidebar-brand">
        <Logo size={28} />
        <span className="sidebar-title">Berth</span>
      </div>
      <ul className="nav-list">
        {NAV.map(({ view: v, label, icon: Icon }) => (
          <li key={v}>
            <button
              type="button"
              className={`nav-item${view === v ? " nav-item-active" : ""}`}
              aria-current={view === v ? "page" : undefined}
              onClick={() => onNavigate(v)}
              data-testid={`nav-${v}`}
            >
              <Icon size={18} />
              <span>{label}</span>
              {v === "containers" && running > 0 && <span className="nav-count">{running}</span>}
            </button>
          </li>
        ))}
      </ul>
      <div className="sidebar-footer">
        <div className="nav-section-label">Help</div>
        <button type="button" className="nav-item" onClick={onTutorial} data-testid="nav-tutorial">
          <GraduationCap size={18} />
          <span>Tutorial</span>
        </button>
        <StatusPill onClick={() => onNavigate("dashboard")} />
      </div>
    </nav>
  );
}
