import { useEffect, useState } from "react";
import { containerInspect, errorMessage, type ContainerInspect } from "../../api";
import { Banner } from "../../components/Banner";
import { Spinner } from "../../components/Spinner";

function Section({ title, count, children }: { title: string; count?: number; children: React.ReactNode }) {
  return (
    <section className="inspect-section">
      <h3>
        {title}
        {count !== undefined && <span className="count">{count}</span>}
      </h3>
      {children}
    </section>
  );
}

function splitEnv(line: string): [string, string] {
  const at = line.indexOf("=");
  return at < 0 ? [line, ""] : [line.slice(0, at), line.slice(at + 1)];
}

export function InspectTab({ id, state }: { id: string; state: string }) {
  const [data, setData] = useState<ContainerInspect | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    containerInspect(id)
      .then((d) => live && (setData(d), setError(null)))
      .catch((e) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
  }, [id, state]);

  if (error) return <Banner tone="danger" title="Could not inspect the container">{error}</Banner>;
  if (!data) return <div className="log-placeholder"><Spinner size={14} /> Loading…</div>;

  const env = data.Config?.Env ?? [];
  const mounts = data.Mounts ?? [];
  const networks = Object.entries(data.NetworkSettings?.Networks ?? {});
  const labels = Object.entries(data.Config?.Labels ?? {});
  const cmd = [...(data.Config?.Entrypoint ?? []), ...(data.Config?.Cmd ?? [])].join(" ");

  return (
    <div className="inspect" data-testid="inspect-view">
      <Section title="Overview">
        <dl className="kv">
          <div className="kv-row"><dt>ID</dt><dd className="mono ellipsis">{data.Id}</dd></div>
          <div className="kv-row"><dt>Image</dt><dd className="mono">{data.Config?.Image ?? "—"}</dd></div>
          <div className="kv-row"><dt>Command</dt><dd className="mono">{cmd || "—"}</dd></div>
          <div className="kv-row"><dt>Created</dt><dd>{new Date(data.Created).toLocaleString()}</dd></div>
          <div className="kv-row"><dt>Status</dt><dd>{data.State?.Status ?? "—"}{data.State?.Running ? "" : data.State?.ExitCode !== undefined ? ` (exit code ${data.State.ExitCode})` : ""}</dd></div>
          {data.State?.Error && <div className="kv-row"><dt>Error</dt><dd className="text-danger">{data.State.Error}</dd></div>}
          <div className="kv-row"><dt>Restart policy</dt><dd>{data.HostConfig?.RestartPolicy?.Name || "no"}</dd></div>
        </dl>
      </Section>
      <Section title="Environment" count={env.length}>
        {env.length ? (
          <table className="table table-compact">
            <tbody>
              {env.map((line, i) => {
                const [k, v] = splitEnv(line);
                return (
                  <tr key={i}>
                    <td className="mono env-key">{k}</td>
                    <td className="mono break">{v}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : (
          <p className="muted">No environment variables.</p>
        )}
      </Section>
      <Section title="Mounts" count={mounts.length}>
        {mounts.length ? (
          <table className="table table-compact">
            <thead><tr><th>Type</th><th>Source</th><th>Destination</th><th>Mode</th></tr></thead>
            <tbody>
              {mounts.map((m, i) => (
                <tr key={i}>
                  <td>{m.Type}</td>
                  <td className="mono break">{m.Type === "volume" ? m.Name : m.Source}</td>
                  <td className="mono break">{m.Destination}</td>
                  <td>{m.RW === false ? "read-only" : "read-write"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted">No mounts.</p>
        )}
      </Section>
      <Section title="Networks" count={networks.length}>
        {networks.length ? (
          <table className="table table-compact">
            <thead><tr><th>Network</th><th>IP address</th><th>Gateway</th><th>MAC</th></tr></thead>
            <tbody>
              {networks.map(([name, n]) => (
                <tr key={name}>
                  <td>{name}</td>
                  <td className="mono">{n.IPAddress ? `${n.IPAddress}${n.IPPrefixLen ? `/${n.IPPrefixLen}` : ""}` : "—"}</td>
                  <td className="mono">{n.Gateway || "—"}</td>
                  <td className="mono">{n.MacAddress || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="muted">Not connected to a network.</p>
        )}
      </Section>
      {labels.length > 0 && (
        <Section title="Labels" count={labels.length}>
          <table className="table table-compact">
            <tbody>
              {labels.map(([k, v]) => (
                <tr key={k}>
                  <td className="mono env-key">{k}</td>
                  <td className="mono break">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
    </div>
  );
}
