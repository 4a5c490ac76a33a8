import { Play } from "lucide-react";
import { useEffect } from "react";
import { engineStart } from "../../../api";
import { BootSteps } from "../../../components/BootSteps";
import { Button } from "../../../components/Button";
import { usePending } from "../../../hooks/usePending";
import { canStart, phaseInfo } from "../../../lib/engine";
import { useEngine } from "../../../state/engine";
import { Output, StepFrame } from "../StepFrame";
import type { StepProps } from "../types";

export function Step1Engine({ n, status, setStatus, pass }: StepProps) {
  const { status: engine, reached, events } = useEngine();
  const { run, isPending } = usePending();
  const phase = engine?.phase ?? "stopped";

  useEffect(() => {
    if (phase === "running" && status !== "done") pass();
    else if (phase === "failed" && status === "running") setStatus("failed");
  }, [phase, status, pass, setStatus]);

  const log = events.filter((e) => e.kind === "phase" || e.kind === "error").slice(-8);

  return (
    <StepFrame
      status={status}
      error={engine?.lastError ?? "The engine stopped."}
      doneText={
        <>
          The VM is up and the engine answers{engine?.versions.kernel ? ` (${engine.versions.kernel})` : ""}. {engine?.cpus} CPUs and{" "}
          {engine ? Math.round(engine.memoryMib / 1024) : "?"} GiB of memory are set aside for your containers.
        </>
      }
      intro={
        <p>
          Containers are a Linux feature, so Berth runs a small Linux virtual machine and its own container engine inside it. Starting it
          takes a few seconds; after that every <code>docker</code> command on this computer talks to it.
        </p>
      }
    >
      <div className="step-action">
        {canStart(engine) ? (
          <Button
            variant="primary"
            icon={<Play size={16} />}
            pending={isPending("start")}
            onClick={() => {
              setStatus("running");
              void run("start", engineStart, { errorTitle: "Could not start the engine" }).then((ok) => !ok && setStatus("failed"));
            }}
            testId={`step-action-${n}`}
          >
            {phase === "failed" ? "Try again" : "Start the engine"}
          </Button>
        ) : (
          <span className="muted">{phase === "running" ? "The engine is running." : `${phaseInfo(phase).label}…`}</span>
        )}
      </div>
      {(phaseInfo(phase).tone === "starting" || phase === "running" || phase === "failed") && <BootSteps phase={phase} reached={reached} />}
      {log.length > 0 && (
        <Output title="Engine log" testId="step-output-1">
          {log.map((e) => `${new Date(e.unixMs).toLocaleTimeString()}  ${e.message}`).join("\n")}
        </Output>
      )}
    </StepFrame>
  );
}
