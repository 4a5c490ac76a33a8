import { Keyboard } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { errorMessage } from "../../../api";
import { Banner } from "../../../components/Banner";
import { Button } from "../../../components/Button";
import { Spinner } from "../../../components/Spinner";
import { TerminalView, type TerminalHandle } from "../../../components/TerminalView";
import { TERMINAL_COMMAND, TerminalCheck } from "../../../lib/onboarding";
import { useEngineRunning } from "../../../state/engine";
import { ensureWebSite } from "../tutorial";
import { StepFrame } from "../StepFrame";
import type { StepProps } from "../types";

export function Step5Terminal({ n, status, pass, session, update }: StepProps) {
  const running = useEngineRunning();
  const [error, setError] = useState<string | null>(null);
  const [containerId, setContainerId] = useState<string | null>(null);
  const term = useRef<TerminalHandle>(null);
  const check = useRef(new TerminalCheck());
  const passed = useRef(status === "done");

  useEffect(() => {
    if (!running) return;
    let live = true;
    ensureWebSite(session.site)
      .then((s) => {
        if (!live) return;
        if (s !== session.site) update({ site: s });
        setContainerId(s.containerId);
      })
      .catch((e) => live && setError(errorMessage(e)));
    return () => {
      live = false;
    };
    // Once per visit: the site found here is stored in the session.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [running]);

  const onText = (text: string) => {
    if (check.current.feed(text) && !passed.current) {
      passed.current = true;
      pass();
    }
  };

  return (
    <StepFrame
      status={status}
      error={error}
      doneText={<>Your command ran inside the container, and its output came back — that is <code>docker exec -it … sh</code>.</>}
      intro={
        <p>
          This is a real shell inside the web server's container. Type a command such as <code>ls /var/www</code> or <code>ps</code> and
          press Enter.
        </p>
      }
    >
      {error && <Banner tone="danger" title="Could not reach the container">{error}</Banner>}
      <div className="step-action">
        <Button icon={<Keyboard size={15} />} disabled={!containerId} onClick={() => term.current?.send(`${TERMINAL_COMMAND}\r`)} testId={`step-action-${n}`}>
          Type <code>{TERMINAL_COMMAND}</code> for me
        </Button>
      </div>
      <div className="step-terminal">
        {containerId ? (
          <TerminalView ref={term} containerId={containerId} onInput={(d) => check.current.input(d)} onText={onText} testId="terminal-view" />
        ) : (
          !error && (
            <div className="log-placeholder">
              <Spinner size={14} /> {running ? "Finding the container…" : "Start the engine first (step 1)."}
            </div>
          )
        )}
      </div>
    </StepFrame>
  );
}
