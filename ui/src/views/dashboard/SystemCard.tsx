import { Info } from "lucide-react";
import { CopyButton } from "../../components/CopyButton";
import { useEngine } from "../../state/engine";

export function SystemCard() {
  const { status } = useEngine();
  const v = status?.versions;
  const rows: [string, string | null | undefined][] = [
    ["App", v?.app],
    ["Daemon", v?.daemon],
    ["Agent", v?.agent],
    ["Kernel", v?.kernel],
    ["Engine", status?.engine],
    ["VM backend", status?.backend],
  ];
  return (
    <section className="card">
      <header className="card-header">
        <h2>
          <Info size={16} /> System
        </h2>
      </header>
      <dl className="kv">
        {rows.map(([k, value]) => (
          <div key={k} className="kv-row">
            <dt>{k}</dt>
            <dd className="mono">{value || "—"}</dd>
          </div>
        ))}
        <div className="kv-row">
          <dt>Docker socket</dt>
          <dd className="mono kv-copy">
            <span className="ellipsis" title={status?.dockerSocket}>{status?.dockerSocket || "—"}</span>
            {status?.dockerSocket && <CopyButton text={status.dockerSocket} />}
          </dd>
        </div>
        <div className="kv-row">
          <dt>Shared folders</dt>
          <dd className="mono">{status?.shares.length ? status.shares.join(", ") : "—"}</dd>
        </div>
      </dl>
    </section>
  );
}
