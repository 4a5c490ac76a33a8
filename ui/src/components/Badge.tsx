import type { ReactNode } from "react";
import type { Tone } from "../lib/containerState";

export function Badge({ tone = "neutral", children, dot, testId }: { tone?: Tone; children: ReactNode; dot?: boolean; testId?: string }) {
  return (
    <span className={`badge badge-${tone}`} data-testid={testId}>
      {dot && <span className="badge-dot" />}
      {children}
    </span>
  );
}
