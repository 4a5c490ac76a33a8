import { CheckCircle2, Download, X, XCircle } from "lucide-react";
import { useState } from "react";
import { Button } from "../../components/Button";
import { ProgressBar } from "../../components/ProgressBar";
import { formatBytes } from "../../lib/format";
import type { PullState } from "../../lib/pull";
import { dismissPull, startPull, usePulls } from "../../state/pulls";
import { useToasts } from "../../state/toasts";

function PullItem({ pull }: { pull: PullState }) {
  const ok = pull.done && !pull.error;
  return (
    <div className={`pull-item${pull.error ? " pull-failed" : ok ? " pull-done" : ""}`} data-testid="pull-item">
      <div className="pull-head">
        {pull.error ? <XCircle size={16} className="text-danger" /> : ok ? <CheckCircle2 size={16} className="text-success" /> : <Download size={16} className="text-accent" />}
        <span className="strong mono">{pull.reference}</span>
        <span className="muted pull-msg ellipsis">{pull.error ?? (ok ? "Pulled" : pull.message)}</span>
        <span className="pull-bytes muted">
          {pull.totalBytes > 0 && !pull.error ? `${formatBytes(pull.downloadedBytes)} / ${formatBytes(pull.totalBytes)}` : ""}
        </span>
        <span className="pull-pct">{pull.error ? "" : `${Math.round(pull.fraction * 100)}%`}</span>
        {pull.done && (
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => dismissPull(pull.reference)}>
            <X size={14} />
          </button>
        )}
      </div>
      <ProgressBar value={pull.fraction} tone={pull.error ? "danger" : ok ? "success" : "accent"} indeterminate={!pull.done && pull.layers.length === 0} />
      {!pull.done && pull.layers.length > 0 && (
        <div className="layers">
          {pull.layers.map((l) => (
            <div key={l.id} className={`layer layer-${l.phase}`} title={`${l.id}: ${l.status}`}>
              <span className="mono">{l.id.slice(0, 12)}</span>
              <span className="muted">{l.status}</span>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

export function PullPanel({ onPulled }: { onPulled: () => void }) {
  const [reference, setReference] = useState("");
  const pulls = usePulls();
  const { push } = useToasts();
  const active = pulls.some((p) => p.reference === reference.trim() && !p.done);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    const ref = reference.trim();
    if (!ref) return;
    setReference("");
    void startPull(ref).then((err) => {
      if (err) push({ tone: "error", title: `Could not pull ${ref}`, message: err });
      else push({ tone: "success", title: `Pulled ${ref}` });
      onPulled();
    });
  };

  return (
    <section className="card pull-panel">
      <form className="pull-form" onSubmit={submit}>
        <label className="input-with-icon grow">
          <Download size={15} />
          <input
            placeholder="Pull an image, e.g. alpine:3.20 or ghcr.io/org/app:tag"
            value={reference}
            onChange={(e) => setReference(e.target.value)}
            spellCheck={false}
            autoCapitalize="off"
            data-testid="pull-reference"
          />
        </label>
        <Button type="submit" variant="primary" disabled={!reference.trim() || active} testId="pull-submit">
          Pull
        </Button>
      </form>
      {pulls.length > 0 && (
        <div className="pulls">
          {pulls.map((p) => (
            <PullItem key={p.reference} pull={p} />
          ))}
        </div>
      )}
    </section>
  );
}
