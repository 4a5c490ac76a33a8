import { SquareTerminal } from "lucide-react";
import { useEffect, useMemo, useRef, useState } from "react";
import { errorMessage, hostInfo, type HostInfo } from "../../../api";
import { Banner } from "../../../components/Banner";
import { CopyButton } from "../../../components/CopyButton";
import { Spinner } from "../../../components/Spinner";
import { describeClient } from "../../../lib/engine";
import { findCliEvent } from "../../../lib/onboarding";
import { useEngine } from "../../../state/engine";
import { StepFrame } from "../StepFrame";
import type { StepProps } from "../types";

export function Step6Cli({ status, pass }: StepProps) {
  const { events } = useEngine();
  const [info, setInfo] = useState<HostInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The step began when it was first shown; only a request after that counts.
  const since = useRef(Date.now());
  const seen = useMemo(() => findCliEvent(events, since.current), [events]);

  useEffect(() => {
    hostInfo()
      .then(setInfo)
      .catch((e) => setError(errorMessage(e)));
  }, []);

  useEffect(() => {
    if (seen && status !== "done") pass();
  }, [seen, status, pass]);

  return (
    <StepFrame
      status={status}
      doneText={
        <>
          Berth saw a request from the <b>{seen ? describeClient(seen.message) : "docker CLI"}</b> at {seen ? new Date(seen.unixMs).toLocaleTimeString() : ""}. Your
          own terminal, compose and any Docker SDK now use Berth.
        </>
      }
      intro={
        <p>
          Berth speaks the Docker API, so the <code>docker</code> command you already know works with it. Open a terminal on this
          computer and run:
        </p>
      }
    >
      {error && <Banner tone="danger" title="Could not read the connection details">{error}</Banner>}
      <div className="command-box">
        <SquareTerminal size={18} className="text-accent" />
        <code className="command-text" data-testid="cli-command">
          {info?.cliCommand ?? "…"}
        </code>
        {info && <CopyButton text={info.cliCommand} testId="cli-copy" />}
      </div>
      {info && (
        <p className="muted small">
          {info.contextInstalled ? (
            <>
              The <code>berth</code> docker context is installed: <code>docker context use berth</code> makes it the default.
            </>
          ) : (
            <>
              To make it the default, set <code>DOCKER_HOST={info.dockerHost}</code> in your shell profile.
            </>
          )}
        </p>
      )}
      {status !== "done" && (
        <div className="waiting" data-testid="cli-waiting">
          <Spinner size={16} /> Waiting for the docker CLI to talk to Berth…
        </div>
      )}
    </StepFrame>
  );
}
