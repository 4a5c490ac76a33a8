import { Play, Power } from "lucide-react";
import { engineStart } from "../api";
import { Button } from "../components/Button";
import { EmptyState } from "../components/EmptyState";
import { usePending } from "../hooks/usePending";
import { canStart } from "../lib/engine";
import { useEngine } from "../state/engine";

/** What a Docker view shows while the engine is not running. */
export function EngineBlocked({ message }: { message: string }) {
  const { status } = useEngine();
  const { run, isPending } = usePending();
  return (
    <EmptyState
      icon={<Power size={28} />}
      title={status?.phase === "failed" ? "The engine failed" : canStart(status) ? "The engine is not running" : "The engine is starting"}
      action={
        canStart(status) && (
          <Button variant="primary" icon={<Play size={16} />} pending={isPending("start")} onClick={() => void run("start", engineStart, { errorTitle: "Could not start the engine" })}>
            Start the engine
          </Button>
        )
      }
    >
      {message}
    </EmptyState>
  );
}
