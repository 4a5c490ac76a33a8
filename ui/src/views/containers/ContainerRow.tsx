import { ExternalLink } from "lucide-react";
import { memo } from "react";
import { openUrl, type ContainerSummary } from "../../api";
import { Badge } from "../../components/Badge";
import type { ConfirmRequest } from "../../components/ConfirmDialog";
import { COMPOSE_SERVICE } from "../../lib/compose";
import { stateTone } from "../../lib/containerState";
import { containerName, shortId } from "../../lib/format";
import { portLinks } from "../../lib/ports";
import { ContainerActions } from "./ContainerActions";

function ContainerRowImpl({
  container: c,
  selected,
  onSelect,
  ask,
}: {
  container: ContainerSummary;
  selected: boolean;
  onSelect: (id: string) => void;
  ask: (r: ConfirmRequest) => void;
}) {
  const name = containerName(c.Names, c.Id);
  const service = c.Labels?.[COMPOSE_SERVICE];
  const links = portLinks(c.Ports);
  return (
    <div
      role="listitem"
      className={`row container-row${selected ? " row-selected" : ""}`}
      data-testid={`container-row-${name}`}
      data-state={c.State}
      onClick={() => onSelect(c.Id)}
    >
      <span className={`state-dot state-${c.State}`} aria-hidden="true" />
      <div className="row-main">
        <div className="row-title">
          <span className="row-name">{name}</span>
          {service && <span className="chip">{service}</span>}
        </div>
        <div className="row-sub">
          <span className="mono ellipsis" title={c.Image}>{c.Image}</span>
          <span className="dot-sep">·</span>
          <span className="mono muted">{shortId(c.Id)}</span>
        </div>
      </div>
      <div className="row-ports">
        {links.slice(0, 3).map((l) =>
          l.url ? (
            <button
              key={l.key}
              type="button"
              className="port-link"
              title={`Open ${l.url}`}
              onClick={(e) => {
                e.stopPropagation();
                void openUrl(l.url!);
              }}
            >
              {l.label} <ExternalLink size={11} />
            </button>
          ) : (
            <span key={l.key} className="port-plain">{l.label}</span>
          ),
        )}
        {links.length > 3 && <span className="muted">+{links.length - 3}</span>}
      </div>
      <div className="row-state">
        <Badge tone={stateTone(c.State)} testId="container-state">{c.State}</Badge>
        <span className="row-status muted">{c.Status}</span>
      </div>
      <div className="row-actions" onClick={(e) => e.stopPropagation()}>
        <ContainerActions container={c} ask={ask} />
      </div>
    </div>
  );
}

export const ContainerRow = memo(ContainerRowImpl);
