import { Plus, X } from "lucide-react";
import { useState } from "react";
import { containerRun, errorMessage } from "../../api";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { Modal } from "../../components/Modal";
import { shortId } from "../../lib/format";
import { buildRunSpec, emptyRunForm, type RunForm } from "../../lib/runForm";
import { useDocker } from "../../state/docker";
import { useToasts } from "../../state/toasts";

function RowError({ errors, k }: { errors: Record<string, string>; k: string }) {
  return errors[k] ? <div className="field-error">{errors[k]}</div> : null;
}

export function RunDialog({ image, onClose, onStarted }: { image: string; onClose: () => void; onStarted: (id: string) => void }) {
  const [form, setForm] = useState<RunForm>(() => emptyRunForm(image));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const { refreshContainers } = useDocker();
  const { push } = useToasts();
  const patch = (p: Partial<RunForm>) => setForm((f) => ({ ...f, ...p }));

  const submit = async () => {
    const r = buildRunSpec(form);
    if (!r.ok) {
      setErrors(r.errors);
      return;
    }
    setErrors({});
    setFailure(null);
    setPending(true);
    try {
      const id = await containerRun(r.spec);
      push({ tone: "success", title: `Started ${r.spec.name ?? r.spec.image}` });
      refreshContainers();
      onStarted(id);
    } catch (e) {
      setFailure(errorMessage(e));
    } finally {
      setPending(false);
    }
  };

  return (
    <Modal
      title={`Run ${image.startsWith("sha256:") ? shortId(image) : image}`}
      onClose={onClose}
      wide
      testId="run-dialog"
      footer={
        <>
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button variant="primary" pending={pending} onClick={() => void submit()} testId="run-submit">
            Run container
          </Button>
        </>
      }
    >
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {failure && <Banner tone="danger" title="The container did not start">{failure}</Banner>}
        <div className="form-grid">
          <label className="field">
            <span className="field-label">Image</span>
            <input value={form.image} onChange={(e) => patch({ image: e.target.value })} spellCheck={false} />
            <RowError errors={errors} k="image" />
          </label>
          <label className="field">
            <span className="field-label">Name <span className="muted">(optional)</span></span>
            <input value={form.name} placeholder="a random name" onChange={(e) => patch({ name: e.target.value })} spellCheck={false} data-testid="run-name" />
            <RowError errors={errors} k="name" />
          </label>
        </div>
        <label className="field">
          <span className="field-label">Command <span className="muted">(optional, replaces the image's)</span></span>
          <input className="mono" value={form.cmd} placeholder="e.g. sh -c 'echo hello'" onChange={(e) => patch({ cmd: e.target.value })} spellCheck={false} />
          <RowError errors={errors} k="cmd" />
        </label>

        <fieldset className="fieldset">
          <legend>Ports</legend>
          {form.ports.map((p, i) => (
            <div key={i}>
              <div className="row-inputs">
                <input className="mono" placeholder="Host port" inputMode="numeric" value={p.hostPort} onChange={(e) => patch({ ports: form.ports.map((x, j) => (j === i ? { ...x, hostPort: e.target.value } : x)) })} />
                <span className="muted">→</span>
                <input className="mono" placeholder="Container port" inputMode="numeric" value={p.containerPort} onChange={(e) => patch({ ports: form.ports.map((x, j) => (j === i ? { ...x, containerPort: e.target.value } : x)) })} />
                <select value={p.protocol} onChange={(e) => patch({ ports: form.ports.map((x, j) => (j === i ? { ...x, protocol: e.target.value as "tcp" | "udp" } : x)) })}>
                  <option value="tcp">TCP</option>
                  <option value="udp">UDP</option>
                </select>
                <button type="button" className="icon-button" aria-label="Remove port" onClick={() => patch({ ports: form.ports.filter((_, j) => j !== i) })}>
                  <X size={16} />
                </button>
              </div>
              <RowError errors={errors} k={`ports.${i}`} />
            </div>
          ))}
          <Button size="sm" variant="ghost" icon={<Plus size={14} />} onClick={() => patch({ ports: [...form.ports, { hostPort: "", containerPort: "", protocol: "tcp" }] })}>
            Add port
          </Button>
          <p className="hint">Published on 127.0.0.1 unless Settings choose another bind address.</p>
        </fieldset>

        <fieldset className="fieldset">
          <legend>Volumes</legend>
          {form.volumes.map((v, i) => (
            <div key={i}>
              <div className="row-inputs">
                <input className="mono" placeholder="Host folder or volume name" value={v.source} onChange={(e) => patch({ volumes: form.volumes.map((x, j) => (j === i ? { ...x, source: e.target.value } : x)) })} />
                <span className="muted">→</span>
                <input className="mono" placeholder="/path/in/container" value={v.target} onChange={(e) => patch({ volumes: form.volumes.map((x, j) => (j === i ? { ...x, target: e.target.value } : x)) })} />
                <label className="check">
                  <input type="checkbox" checked={v.readOnly} onChange={(e) => patch({ volumes: form.volumes.map((x, j) => (j === i ? { ...x, readOnly: e.target.checked } : x)) })} />
                  read-only
                </label>
                <button type="button" className="icon-button" aria-label="Remove volume" onClick={() => patch({ volumes: form.volumes.filter((_, j) => j !== i) })}>
                  <X size={16} />
                </button>
              </div>
              <RowError errors={errors} k={`volumes.${i}`} />
            </div>
          ))}
          <Button size="sm" variant="ghost" icon={<Plus size={14} />} onClick={() => patch({ volumes: [...form.volumes, { source: "", target: "", readOnly: false }] })}>
            Add volume
          </Button>
          <p className="hint">Host folders must be inside a shared folder (Settings).</p>
        </fieldset>

        <fieldset className="fieldset">
          <legend>Environment</legend>
          {form.env.map((v, i) => (
            <div key={i}>
              <div className="row-inputs">
                <input className="mono" placeholder="NAME" value={v.key} onChange={(e) => patch({ env: form.env.map((x, j) => (j === i ? { ...x, key: e.target.value } : x)) })} />
                <span className="muted">=</span>
                <input className="mono" placeholder="value" value={v.value} onChange={(e) => patch({ env: form.env.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)) })} />
                <button type="button" className="icon-button" aria-label="Remove variable" onClick={() => patch({ env: form.env.filter((_, j) => j !== i) })}>
                  <X size={16} />
                </button>
              </div>
              <RowError errors={errors} k={`env.${i}`} />
            </div>
          ))}
          <Button size="sm" variant="ghost" icon={<Plus size={14} />} onClick={() => patch({ env: [...form.env, { key: "", value: "" }] })}>
            Add variable
          </Button>
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={form.autoRemove} onChange={(e) => patch({ autoRemove: e.target.checked })} />
          Remove the container when it exits
        </label>
        <button type="submit" hidden />
      </form>
    </Modal>
  );
}
