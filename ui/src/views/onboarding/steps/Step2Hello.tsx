import { Play } from "lucide-react";
import { useState } from "react";
import { containerWait, errorMessage } from "../../../api";
import { Button } from "../../../components/Button";
import { greetingSeen, HELLO_NAME } from "../../../lib/onboarding";
import { useEngineRunning } from "../../../state/engine";
import { readLogs, runHello } from "../tutorial";
import { Output, StepFrame } from "../StepFrame";
import type { StepProps } from "../types";

export function Step2Hello({ n, status, setStatus, pass }: StepProps) {
  const running = useEngineRunning();
  const [lines, setLines] = useState<string[] | null>(null);
  const [note, setNote] = useState<string>("");
  const [error, setError] = useState<string | null>(null);

  const go = async () => {
    setStatus("running");
    setError(null);
    setLines(null);
    try {
      setNote("Creating the container…");
      const id = await runHello();
      setNote("Running…");
      const code = await containerWait(id);
      const out = await readLogs(id);
      setLines(out);
      setNote(`The container exited with code ${code}.`);
      if (greetingSeen(out)) pass();
      else {
        setError("The container's output did not contain the greeting.");
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
      doneText={<>You ran a container: it started, printed its greeting, and exited. Its logs stay until you remove it.</>}
      intro={
        <>
          <p>
            A container runs a program from an <em>image</em> — here <code>berth/hello</code>, a tiny image that ships with Berth, so
            nothing is downloaded. This is the same as typing:
          </p>
          <pre className="code-block">docker run --name {HELLO_NAME} berth/hello sh -c 'echo …'</pre>
        </>
      }
    >
      <div className="step-action">
        <Button variant="primary" icon={<Play size={16} />} pending={status === "running"} disabled={!running} onClick={() => void go()} testId={`step-action-${n}`}>
          {status === "done" ? "Run it again" : "Run berth/hello"}
        </Button>
        {!running && <span className="muted">Start the engine first (step 1).</span>}
        {note && <span className="muted">{note}</span>}
      </div>
      {lines && (
        <Output title="Container output" testId={`step-output-${n}`}>
          {lines.length ? lines.join("\n") : "(no output)"}
        </Output>
      )}
    </StepFrame>
  );
}
