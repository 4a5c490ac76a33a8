import { HardDrive, Plus, Trash2 } from "lucide-react";
import { useMemo, useState } from "react";
import { errorMessage, volumeCreate, volumeRemove, volumesList, type Volume } from "../../api";
import { Badge } from "../../components/Badge";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { EmptyState } from "../../components/EmptyState";
import { PageHeader } from "../../components/PageHeader";
import { useConfirm } from "../../components/useConfirm";
import { usePending } from "../../hooks/usePending";
import { engineBlocker } from "../../lib/engine";
import { formatAgo, formatBytes, pluralize } from "../../lib/format";
import { useLiveList } from "../../state/docker";
import { useEngine } from "../../state/engine";
import { useToasts } from "../../state/toasts";
import { EngineBlocked } from "../EngineBlocked";

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function VolumesView() {
  const { status } = useEngine();
  const blocker = engineBlocker(status);
  const { items, loaded, error, reload } = useLiveList<Volume>("volumes", volumesList);
  const { run, isPending } = usePending();
  const { ask, dialog } = useConfirm();
  const { push } = useToasts();
  const [name, setName] = useState("");
  const [createError, setCreateError] = useState<string | null>(null);
  const volumes = useMemo(() => [...items].sort((a, b) => a.Name.localeCompare(b.Name)), [items]);
  const used = volumes.reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);

  const create = async (e: React.FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    if (n && !NAME_RE.test(n)) {
      setCreateError("Letters, digits, '_', '.' and '-', starting with a letter or digit");
      return;
    }
    setCreateError(null);
    await run("create", async () => {
      try {
        const v = await volumeCreate(n);
        push({ tone: "success", title: `Created ${v.Name}` });
        setName("");
        reload();
      } catch (err) {
        setCreateError(errorMessage(err));
      }
    });
  };

  const remove = (v: Volume) => {
    const inUse = (v.UsageData?.RefCount ?? 0) > 0;
    ask({
      title: `Remove ${v.Name}?`,
      danger: true,
      confirmLabel: "Remove volume",
      body: (
        <>
          <p>All data in the volume is deleted. This cannot be undone.</p>
          {inUse && <p className="muted">A container uses it: remove the container first.</p>}
        </>
      ),
      onConfirm: () =>
        run(`rm-${v.Name}`, () => volumeRemove(v.Name, false), { errorTitle: `Could not remove ${v.Name}` }).then((ok) => {
          if (ok) push({ tone: "success", title: `Removed ${v.Name}` });
          reload();
        }),
    });
  };

  return (
    <div className="page" data-testid="view-volumes">
      <PageHeader title="Volumes" subtitle={loaded && !blocker ? `${pluralize(volumes.length, "volume")} · ${formatBytes(used)} used` : "Data that outlives containers."} />
      {blocker ? (
        <EngineBlocked message={blocker} />
      ) : (
        <>
          <section className="card">
            <form className="pull-form" onSubmit={(e) => void create(e)}>
              <label className="input-with-icon grow">
                <HardDrive size={15} />
                <input placeholder="New volume name (empty for a random one)" value={name} onChange={(e) => setName(e.target.value)} spellCheck={false} data-testid="volume-name" />
              </label>
              <Button type="submit" variant="primary" icon={<Plus size={15} />} pending={isPending("create")} testId="volume-create">
                Create
              </Button>
            </form>
            {createError && <div className="field-error">{createError}</div>}
          </section>
          {error && <Banner tone="danger" title="Could not list volumes">{error}</Banner>}
          {loaded && volumes.length === 0 ? (
            <EmptyState icon={<HardDrive size={28} />} title="No volumes">
              Volumes keep data such as databases across container restarts. Create one above, or mount one when you run a container:
              <pre className="code-block">docker run -v mydata:/data alpine</pre>
            </EmptyState>
          ) : (
            <div className="card card-flush">
              <table className="table" data-testid="volumes-table">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Driver</th>
                    <th>In use</th>
                    <th>Created</th>
                    <th className="num">Size</th>
                    <th className="actions-col" aria-label="Actions" />
                  </tr>
                </thead>
                <tbody>
                  {volumes.map((v) => {
                    const refs = v.UsageData?.RefCount ?? -1;
                    return (
                      <tr key={v.Name} data-testid={`volume-row-${v.Name}`}>
                        <td className="strong mono ellipsis" title={v.Mountpoint}>{v.Name}</td>
                        <td className="muted">{v.Driver}</td>
                        <td>{refs > 0 ? <Badge tone="success">{pluralize(refs, "container")}</Badge> : refs === 0 ? <span className="muted">unused</span> : "—"}</td>
                        <td className="muted">{v.CreatedAt ? formatAgo(Date.parse(v.CreatedAt) / 1000) : "—"}</td>
                        <td className="num">{formatBytes(v.UsageData?.Size ?? -1)}</td>
                        <td className="actions-col">
                          <Button size="sm" variant="ghost" className="btn-danger-ghost" icon={<Trash2 size={15} />} pending={isPending(`rm-${v.Name}`)} aria-label={`Remove ${v.Name}`} title="Remove" onClick={() => remove(v)} testId="volume-remove" />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      {dialog}
    </div>
  );
}
