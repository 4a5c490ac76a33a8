import { Folder, Plus, X } from "lucide-react";
import { useState } from "react";
import { Button } from "../../components/Button";
import { addShare } from "../../lib/settings";

export function SharesEditor({ shares, onChange }: { shares: string[]; onChange: (s: string[]) => void }) {
  const [path, setPath] = useState("");
  const [error, setError] = useState<string | null>(null);
  const add = () => {
    const r = addShare(shares, path);
    if ("error" in r) setError(r.error);
    else {
      onChange(r.shares);
      setPath("");
      setError(null);
    }
  };
  return (
    <div className="shares">
      {shares.length === 0 && <p className="muted">No shared folders: containers can only use volumes.</p>}
      <ul className="share-list">
        {shares.map((s) => (
          <li key={s} className="share" data-testid="share-item">
            <Folder size={16} className="text-accent" />
            <span className="mono ellipsis">{s}</span>
            <button type="button" className="icon-button" aria-label={`Stop sharing ${s}`} onClick={() => onChange(shares.filter((x) => x !== s))}>
              <X size={15} />
            </button>
          </li>
        ))}
      </ul>
      <form
        className="pull-form"
        onSubmit={(e) => {
          e.preventDefault();
          add();
        }}
      >
        <input className="mono grow" placeholder="/path/to/folder" value={path} onChange={(e) => setPath(e.target.value)} spellCheck={false} data-testid="share-path" />
        <Button type="submit" icon={<Plus size={15} />} testId="share-add">
          Add folder
        </Button>
      </form>
      {error && <div className="field-error">{error}</div>}
    </div>
  );
}
