import { Activity } from "lucide-react";
import { useEffect, useState } from "react";
import { containerStats, errorMessage } from "../../api";
import { Banner } from "../../components/Banner";
import { EmptyState } from "../../components/EmptyState";
import { ProgressBar } from "../../components/ProgressBar";
import { Sparkline } from "../../components/Sparkline";
import { Spinner } from "../../components/Spinner";
import { formatBytes, formatPercent } from "../../lib/format";
import { memoryFraction, pushSample, type StatsPoint } from "../../lib/stats";

function StatCard({ title, value, sub, children }: { title: string; value: string; sub?: string; children?: React.ReactNode }) {
  return (
    <div className="stat-card">
      <div className="stat-title">{title}</div>
      <div className="stat-value">{value}</div>
      {sub && <div className="stat-sub">{sub}</div>}
      {children}
    </div>
  );
}

export function StatsTab({ id, running }: { id: string; running: boolean }) {
  const [history, setHistory] = useState<StatsPoint[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!running) return;
    setHistory([]);
    setError(null);
    const stream = containerStats(id, (s) => setHistory((h) => pushSample(h, s)));
    stream.ready.catch((e) => setError(errorMessage(e)));
    return () => stream.cancel();
  }, [id, running]);

  if (!running)
    return (
      <EmptyState icon={<Activity size={28} />} title="No live stats">
        Stats are measured while the container runs.
      </EmptyState>
    );
  if (error) return <Banner tone="danger" title="Could not read stats">{error}</Banner>;
  const last = history[history.length - 1];
  if (!last) return <div className="log-placeholder"><Spinner size={14} /> Waiting for the first sample…</div>;
  const s = last.sample;
  return (
    <div className="stats-grid" data-testid="stats-view">
      <StatCard title="CPU" value={formatPercent(s.cpuPercent)} sub={`${s.pids} processes`}>
        <Sparkline values={history.map((p) => p.sample.cpuPercent)} minTop={5} />
      </StatCard>
      <StatCard title="Memory" value={formatBytes(s.memoryBytes)} sub={s.memoryLimit > 0 ? `of ${formatBytes(s.memoryLimit)}` : undefined}>
        <div className="stat-bar">
          <ProgressBar value={memoryFraction(s)} />
        </div>
        <Sparkline values={history.map((p) => p.sample.memoryBytes)} minTop={s.memoryLimit > 0 ? s.memoryLimit / 4 : 0} />
      </StatCard>
      <StatCard title="Network" value={`↓ ${formatBytes(last.netRxRate)}/s  ↑ ${formatBytes(last.netTxRate)}/s`} sub={`received ${formatBytes(s.netRxBytes)} · sent ${formatBytes(s.netTxBytes)}`}>
        <Sparkline values={history.map((p) => p.netRxRate + p.netTxRate)} minTop={1024} />
      </StatCard>
      <StatCard title="Block I/O" value={`R ${formatBytes(last.blockReadRate)}/s  W ${formatBytes(last.blockWriteRate)}/s`} sub={`read ${formatBytes(s.blockReadBytes)} · written ${formatBytes(s.blockWriteBytes)}`}>
        <Sparkline values={history.map((p) => p.blockReadRate + p.blockWriteRate)} minTop={1024} />
      </StatCard>
    </div>
  );
}
