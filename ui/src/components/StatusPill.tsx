import { useEngine } from "../state/engine";
import { phaseInfo } from "../lib/engine";

/** The engine's phase, shown everywhere. Its text contains the raw phase (test hook). */
export function StatusPill({ onClick }: { onClick?: () => void }) {
  const { status, watchError } = useEngine();
  const phase = status?.phase ?? (watchError ? "failed" : "stopped");
  const info = phaseInfo(phase);
  return (
    <button
      type="button"
      className={`status-pill status-${info.tone}`}
      onClick={onClick}
      title={status?.lastError ?? watchError ?? info.label}
      data-testid="engine-status"
      data-phase={phase}
    >
      <span className={`status-dot${info.busy ? " status-dot-pulse" : ""}`} />
      <span className="status-pill-label">Engine</span>
      <span className="status-pill-phase">{phase}</span>
    </button>
  );
}
