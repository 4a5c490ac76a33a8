import { Layers, Play, Trash2, Wand2 } from "lucide-react";
import { useMemo, useState } from "react";
import { imageRemove, imagesList, imagesPrune, type ImageSummary } from "../../api";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { EmptyState } from "../../components/EmptyState";
import { PageHeader } from "../../components/PageHeader";
import { useConfirm } from "../../components/useConfirm";
import { usePending } from "../../hooks/usePending";
import { engineBlocker } from "../../lib/engine";
import { formatAgo, formatBytes, imageLabel, pluralize, shortId } from "../../lib/format";
import { useLiveList } from "../../state/docker";
import { useEngine } from "../../state/engine";
import { useToasts } from "../../state/toasts";
import { EngineBlocked } from "../EngineBlocked";
import { PullPanel } from "./PullPanel";
import { RunDialog } from "./RunDialog";

export function ImagesView({ onRan }: { onRan: (containerId: string) => void }) {
  const { status } = useEngine();
  const blocker = engineBlocker(status);
  const { items, loaded, error, reload } = useLiveList<ImageSummary>("images", imagesList);
  const { run, isPending } = usePending();
  const { ask, dialog } = useConfirm();
  const { push } = useToasts();
  const [runImage, setRunImage] = useState<string | null>(null);

  const images = useMemo(
    () => [...items].sort((a, b) => imageLabel(a.RepoTags).repo.localeCompare(imageLabel(b.RepoTags).repo) || b.Created - a.Created),
    [items],
  );
  const total = images.reduce((sum, i) => sum + (i.Size || 0), 0);

  const remove = (img: ImageSummary) => {
    const { repo, tag } = imageLabel(img.RepoTags);
    const label = repo === "<none>" ? shortId(img.Id) : `${repo}:${tag}`;
    ask({
      title: `Remove ${label}?`,
      danger: true,
      confirmLabel: "Remove",
      body: <p>The image is deleted from the engine. Containers still using it keep it alive; stop and remove them first.</p>,
      onConfirm: () =>
        run(`rm-${img.Id}`, () => imageRemove(img.Id, false), { errorTitle: `Could not remove ${label}` }).then((ok) => {
          if (ok) push({ tone: "success", title: `Removed ${label}` });
          reload();
        }),
    });
  };

  const prune = () =>
    ask({
      title: "Remove dangling images?",
      confirmLabel: "Prune",
      danger: true,
      body: <p>Images without a tag that no container uses are deleted.</p>,
      onConfirm: () =>
        run("prune", async () => {
          const r = await imagesPrune();
          push({ tone: "success", title: r.deleted ? `Removed ${pluralize(r.deleted, "image")}` : "Nothing to prune", message: r.deleted ? `${formatBytes(r.spaceReclaimed)} reclaimed` : undefined });
          reload();
        }, { errorTitle: "Could not prune images" }),
    });

  return (
    <div className="page" data-testid="view-images">
      <PageHeader
        title="Images"
        subtitle={loaded && !blocker ? `${pluralize(images.length, "image")} · ${formatBytes(total)}` : "Images stored in the engine."}
        actions={
          !blocker && (
            <Button icon={<Wand2 size={15} />} pending={isPending("prune")} onClick={prune} testId="images-prune">
              Prune
            </Button>
          )
        }
      />
      {blocker ? (
        <EngineBlocked message={blocker} />
      ) : (
        <>
          <PullPanel onPulled={reload} />
          {error && <Banner tone="danger" title="Could not list images">{error}</Banner>}
          {loaded && images.length === 0 ? (
            <EmptyState icon={<Layers size={28} />} title="No images">
              Pull one above — try <code>alpine</code> or <code>nginx:alpine</code>. The tutorial's <code>berth/hello</code> comes with Berth.
            </EmptyState>
          ) : (
            <div className="card card-flush">
              <table className="table" data-testid="images-table">
                <thead>
                  <tr>
                    <th>Repository</th>
                    <th>Tag</th>
                    <th>Image ID</th>
                    <th>Created</th>
                    <th className="num">Size</th>
                    <th className="actions-col" aria-label="Actions" />
                  </tr>
                </thead>
                <tbody>
                  {images.map((img) => {
                    const { repo, tag } = imageLabel(img.RepoTags);
                    const ref = repo === "<none>" ? img.Id : `${repo}:${tag}`;
                    return (
                      <tr key={img.Id} data-testid={`image-row-${repo}`}>
                        <td className="strong">{repo}</td>
                        <td><span className="chip">{tag}</span></td>
                        <td className="mono muted">{shortId(img.Id)}</td>
                        <td className="muted">{img.Created ? formatAgo(img.Created) : "—"}</td>
                        <td className="num">{formatBytes(img.Size)}</td>
                        <td className="actions-col">
                          <div className="action-group">
                            <Button size="sm" variant="ghost" icon={<Play size={15} />} onClick={() => setRunImage(ref)} testId="image-run">
                              Run
                            </Button>
                            <Button size="sm" variant="ghost" className="btn-danger-ghost" icon={<Trash2 size={15} />} pending={isPending(`rm-${img.Id}`)} aria-label={`Remove ${ref}`} title="Remove" onClick={() => remove(img)} testId="image-remove" />
                          </div>
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
      {runImage && (
        <RunDialog
          image={runImage}
          onClose={() => setRunImage(null)}
          onStarted={(id) => {
            setRunImage(null);
            onRan(id);
          }}
        />
      )}
      {dialog}
    </div>
  );
}
