import { ExternalLink, Network } from "lucide-react";
import { openUrl } from "../../api";
import { Banner } from "../../components/Banner";
import { browserHost } from "../../lib/ports";
import { shortId } from "../../lib/format";
import { useDocker } from "../../state/docker";
import { useEngine } from "../../state/engine";
import { containerName } from "../../lib/format";

export function PortsCard() {
  const { status } = useEngine();
  const { containers } = useDocker();
  const nameOf = (id: string) => {
    const c = containers.find((x) => x.Id === id || x.Id.startsWith(id));
    return c ? containerName(c.Names, c.Id) : shortId(id);
  };
  const ports = status?.ports ?? [];
  const errors = status?.portErrors ?? [];
  return (
    <section className="card">
      <header className="card-header">
        <h2>
          <Network size={16} /> Forwarded ports
        </h2>
        <span className="muted">{ports.length ? `${ports.length} open` : ""}</span>
      </header>
      {errors.map((e) => (
        <Banner key={`${e.hostIp}:${e.hostPort}/${e.proto}`} tone="danger" title={`Port ${e.hostPort}/${e.proto} could not be opened`} testId="port-error">
          {e.message} <span className="muted">({nameOf(e.containerId)})</span>
        </Banner>
      ))}
      {ports.length === 0 && errors.length === 0 ? (
        <p className="card-empty">No published ports. Run a container with a port (e.g. <code>-p 8080:80</code>) and it appears here.</p>
      ) : (
        <table className="table table-compact">
          <tbody>
            {ports.map((p) => {
              const url = `http://${browserHost(p.hostIp)}:${p.hostPort}`;
              return (
                <tr key={`${p.hostIp}:${p.hostPort}/${p.proto}`}>
                  <td className="mono">
                    {p.proto === "tcp" ? (
                      <button type="button" className="link" onClick={() => void openUrl(url)}>
                        {p.hostIp}:{p.hostPort} <ExternalLink size={12} />
                      </button>
                    ) : (
                      `${p.hostIp}:${p.hostPort}/${p.proto}`
                    )}
                  </td>
                  <td className="muted">→ {p.containerPort}</td>
                  <td className="ellipsis">{nameOf(p.containerId)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
