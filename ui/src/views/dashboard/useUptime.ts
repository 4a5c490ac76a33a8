import { useEffect, useRef, useState } from "react";
import type { EngineStatus } from "../../api";
import { formatDuration } from "../../lib/format";

/** The VM's uptime, ticking locally between status updates (a display clock, not polling). */
export function useUptime(status: EngineStatus | null): string {
  const base = useRef<{ uptime: number; at: number } | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const uptimeMs = status?.uptimeMs ?? null;
  if (uptimeMs === null) base.current = null;
  else if (!base.current || base.current.uptime !== uptimeMs) base.current = { uptime: uptimeMs, at: Date.now() };

  useEffect(() => {
    if (uptimeMs === null) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [uptimeMs]);

  if (!base.current) return "—";
  return formatDuration(base.current.uptime + Math.max(0, now - base.current.at));
}
