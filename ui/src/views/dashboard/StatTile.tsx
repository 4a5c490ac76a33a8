import type { ReactNode } from "react";

export function StatTile({ icon, label, value, hint, onClick, testId }: { icon: ReactNode; label: string; value: string; hint?: string; onClick?: () => void; testId?: string }) {
  const body = (
    <>
      <div className="tile-icon">{icon}</div>
      <div className="tile-text">
        <div className="tile-label">{label}</div>
        <div className="tile-value">{value}</div>
        {hint && <div className="tile-hint">{hint}</div>}
      </div>
    </>
  );
  return onClick ? (
    <button type="button" className="tile tile-button" onClick={onClick} data-testid={testId}>
      {body}
    </button>
  ) : (
    <div className="tile" data-testid={testId}>
      {body}
    </div>
  );
}
