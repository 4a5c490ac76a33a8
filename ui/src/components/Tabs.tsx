import type { ReactNode } from "react";

export interface TabDef<K extends string> {
  key: K;
  label: string;
  icon?: ReactNode;
}

export function Tabs<K extends string>({ tabs, active, onChange }: { tabs: TabDef<K>[]; active: K; onChange: (k: K) => void }) {
  return (
    <div className="tabs" role="tablist">
      {tabs.map((t) => (
        <button
          key={t.key}
          type="button"
          role="tab"
          aria-selected={t.key === active}
          className={`tab${t.key === active ? " tab-active" : ""}`}
          onClick={() => onChange(t.key)}
          data-testid={`tab-${t.key}`}
        >
          {t.icon}
          {t.label}
        </button>
      ))}
    </div>
  );
}
