import { Trash2 } from "lucide-react";
import { useState } from "react";
import { containerRemove, containersList, errorMessage } from "../../../api";
import { Button } from "../../../components/Button";
import { containerName } from "../../../lib/format";
import { tutorialContainers } from "../../../lib/onboarding";
import { useDocker } from "../../../state/docker";
import { useEngineRunning } from "../../../state/engine";
import { Output, StepFrame } from "../StepFrame";
import type { StepProps } from "../types";

export function Step7Cleanup({ n, status, setStatus, pass }: StepProps) {
  const running = useEngineRunning();
  const { containers, refreshContainers } = useDocker();
  const [removed, setRemoved] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const left = tutorialContainers(containers);

  const go = async () => {
    setStatus("running");
    setError(null);
    try {
      const targets = tutorialContainers(await containersList());
      const names: string[] = [];
      for (const c of targets) {
        await containerRemove(c.Id, true);
        names.push(containerName(c.Names, c.Id));
      }
      setRemoved(names);
      refreshContainers();
      const still = tutorialContainers(await containersList());
      if (still.length === 0) pass();
      else {
        setError(`Still there: ${still.map((c) => containerName(c.Names, c.Id)).join(", ")}`);
        setStatus("failed");
      }
    } catch (e) {
      setError(errorMessage(e));
      setStatus("failed");
    }
  };

  return (
    <StepFrame
      status={status}
      error={error}
      doneText={<>The tutorial's containers are gone. The <code>berth/hello</code> image stays for next time. You are all set!</>}
      intro={
        <p>
          Containers stay around after they stop, so their logs can be read. Remove the ones this tutorial made — the same as{" "}
          <code>docker rm -f</code>.
        </p>
      }
    >
      {status !== "done" && (
        <Output title="Containers made by the tutorial" testId="step-left-7">
          {left.length ? left.map((c) => `${containerName(c.Names, c.Id).padEnd(24)} ${c.State}`).join("\n") : "(none left)"}
        </Output>
      )}
      <div className="step-action">
        <Button variant="primary" icon={<Trash2 size={16} />} pending={status === "running"} disabled={!running || status === "done"} onClick={() => void go()} testId={`step-action-${n}`}>
          {left.length ? `Remove ${left.length === 1 ? "it" : `all ${left.length}`}` : "Check that nothing is left"}
        </Button>
      </div>
      {removed && removed.length > 0 && <Output title="Removed" testId={`step-output-${n}`}>{removed.join("\n")}</Output>}
    </StepFrame>
  );
}
