import type { ReactNode } from "react";

/** One setting: its label and hint on the left, its control on the right, its error (and
 * any note) below. */
export function SettingRow({ label, hint, error, children, after }: { label: string; hint: ReactNode; error?: string; children: ReactNode; after?: ReactNode }) {
  return (
    <div className="setting">
      <div className="setting-text">
        <div className="setting-label">{label}</div>
        <div className="setting-hint">{hint}</div>
      </div>
      <div className="setting-control">{children}</div>
      {error && <div className="field-error">{error}</div>}
      {after}
    </div>
  );
}
