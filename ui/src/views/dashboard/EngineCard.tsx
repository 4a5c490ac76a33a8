import { Play, RotateCw, Square } from "lucide-react";
import { engineRestart, engineStart, engineStop } from "../../api";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { BootSteps } from "../../components/BootSteps";
import { usePending } from "../../hooks/usePending";
import { canStart, canStop, diskSummary, phaseInfo } from "../../lib/engine";
import { useEngine } from "../../state/engine";

export function EngineCard() {
  const { status, reached, watchError } = useEngine();
  const { run, isPending } = usePending();
  const phase = status?.phase ?? "stopped";
  const info = phaseInfo(phase);
  const busy = isPending("start") || isPending("stop") || isPending("restart");

  return (
    <section className={`card engine-card engine-${info.tone}`} data-testid="engine-card">
      <div className="engine-card-main">
        <div className={`engine-orb engine-orb-${info.tone}`} aria-hidden="true" />
        <div className="engine-card-text">
          <div className="engine-card-label">Engine</div>
          <div className="engine-card-phase" data-testid="dashboard-phase">
            {info.label}
          </div>
          <div className="engine-card-sub">
            {status?.daemonRunning === false && phase === "stopped"
              ? "The Berth daemon is not running. Start the engine to launch it."
              : status?.engine
                ? `${status.engine} · ${status.backend ?? "VM"}`
                : status?.backend ?? "Linux VM"}
          </div>
        </div>
        <div className="engine-card-actions">
          {canStart(status) && (
            <Button variant="primary" icon={<Play size={16} />} pending={isPending("start")} disabled={busy} onClick={() => void run("start", engineStart, { errorTitle: "Could not start the engine" })} testId="engine-start">
              Start
            </Button>
          )}
          {canStop(status) && (
            <Button icon={<Square size={15} />} pending={isPending("stop")} disabled={busy} onClick={() => void run("stop", engineStop, { errorTitle: "Could not stop the engine" })} testId="engine-stop">
              Stop
            </Button>
          )}
          <Button
            icon={<RotateCw size={15} />}
            pending={isPending("restart")}
            disabled={busy || !status?.daemonRunning || phase === "stopping"}
            onClick={() => void run("restart", engineRestart, { errorTitle: "Could not restart the engine" })}
            testId="engine-restart"
          >
            Restart
          </Button>
        </div>
      </div>
      {info.tone === "starting" && phase !== "stopping" && <BootSteps phase={phase} reached={reached} />}
      {phase === "failed" && (
        <Banner tone="danger" title="The engine failed" testId="engine-error">
          {status?.lastError ?? "No reason was given."}
        </Banner>
      )}
      {diskSummary(status).missing && (
        <Banner tone="warning" title="No data disk" testId="engine-no-disk">
          The VM's data disk is not mounted, so containers, images and volumes are kept in memory and lost when the VM stops. Restart the engine; if this stays, the console log (<code>berth logs</code>) says why.
        </Banner>
      )}
      {watchError && (
        <Banner tone="warning" title="No connection to the app backend">
          {watchError}
        </Banner>
      )}
    </section>
  );
}
