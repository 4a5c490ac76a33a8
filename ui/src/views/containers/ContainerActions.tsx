import { Pause, Play, RotateCw, Square, Trash2 } from "lucide-react";
import type { ReactNode } from "react";
import { containerAction, containerRemove, type ContainerSummary } from "../../api";
import { Button } from "../../components/Button";
import type { ConfirmRequest } from "../../components/ConfirmDialog";
import { usePending } from "../../hooks/usePending";
import { ACTION_LABELS, availableActions, removeNeedsForce, type RowAction } from "../../lib/containerState";
import { containerName } from "../../lib/format";
import { useDocker } from "../../state/docker";
import { useToasts } from "../../state/toasts";

const ICONS: Record<RowAction, ReactNode> = {
  start: <Play size={15} />,
  stop: <Square size={14} />,
  restart: <RotateCw size={15} />,
  pause: <Pause size={15} />,
  unpause: <Play size={15} />,
  kill: <Square size={14} />,
  remove: <Trash2 size={15} />,
};

export function ContainerActions({ container: c, ask }: { container: ContainerSummary; ask: (r: ConfirmRequest) => void }) {
  const { run, isPending, pending } = usePending();
  const { refreshContainers } = useDocker();
  const { push } = useToasts();
  const name = containerName(c.Names, c.Id);
  const busy = pending.size > 0;

  const act = (action: RowAction) => {
    if (action === "remove") {
      const force = removeNeedsForce(c.State);
      ask({
        title: `Remove ${name}?`,
        danger: true,
        confirmLabel: force ? "Stop and remove" : "Remove",
        body: (
          <>
            <p>
              The container <b>{name}</b> and its logs are deleted. Its volumes are kept.
            </p>
            {force && <p className="muted">It is running: it is stopped first.</p>}
          </>
        ),
        onConfirm: () =>
          run("remove", () => containerRemove(c.Id, force), { errorTitle: `Could not remove ${name}` }).then((ok) => {
            if (ok) push({ tone: "success", title: `Removed ${name}` });
            refreshContainers();
          }),
      });
      return;
    }
    void run(action, () => containerAction(c.Id, action), { errorTitle: `Could not ${ACTION_LABELS[action].toLowerCase()} ${name}` }).then(() =>
      refreshContainers(),
    );
  };

  return (
    <div className="action-group">
      {availableActions(c.State).map((a) => (
        <Button
          key={a}
          size="sm"
          variant={a === "remove" ? "ghost" : "ghost"}
          className={a === "remove" ? "btn-danger-ghost" : undefined}
          icon={ICONS[a]}
          pending={isPending(a)}
          disabled={busy && !isPending(a)}
          title={ACTION_LABELS[a]}
          aria-label={`${ACTION_LABELS[a]} ${name}`}
          onClick={() => act(a)}
          testId={`container-action-${a}`}
        />
      ))}
    </div>
  );
}
