import { Activity } from "lucide-react";
import { useEngine } from "../../state/engine";

const KIND_LABEL: Record<string, string> = {
  phase: "Engine",
  "port-added": "Port",
  "port-removed": "Port",
  "port-error": "Port error",
  "docker-client": "Client",
  error: "Error",
};

export function ActivityCard() {
  const { events } = useEngine();
  const recent = events.slice(-8).reverse();
  return (
    <section className="card">
      <header className="card-header">
        <h2>
          <Activity size={16} /> Recent activity
        </h2>
      </header>
      {recent.length === 0 ? (
        <p className="card-empty">Nothing yet. Engine phases, ports and docker clients show up here as they happen.</p>
      ) : (
        <ul className="activity">
          {recent.map((e, i) => (
            <li key={`${e.unixMs}-${i}`} className={`activity-item activity-${e.kind}`}>
              <span className="activity-time">{new Date(e.unixMs).toLocaleTimeString()}</span>
              <span className="activity-kind">{KIND_LABEL[e.kind] ?? e.kind}</span>
              <span className="activity-message">{e.message}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
