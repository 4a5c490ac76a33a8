import { ExternalLink, Globe } from "lucide-react";
import { useState } from "react";
import { errorMessage, openUrl, type ProbeResult } from "../../../api";
import { Button } from "../../../components/Button";
import { pageServed } from "../../../lib/onboarding";
import { useEngineRunning } from "../../../state/engine";
import { probeUntil, startWebSite } from "../tutorial";
import { Preview, StepFrame } from "../StepFrame";
import type { StepProps } from "../types";

export function Step3Publish({ n, status, setStatus, pass, session, update }: StepProps) {
  const running = useEngineRunning();
  const [probe, setProbe] = useState<ProbeResult | null>(null);
  const [note, setNote] = useState("");
  const [error, setError] = useState<string | null>(null);
  const site = session.site;

  const go = async () => {
    setStatus("running");
    setError(null);
    setProbe(null);
    try {
      setNote("Starting the web server…");
      const s = await startWebSite();
      update({ site: s });
      setNote(`Waiting for ${s.url} to answer…`);
      const r = await probeUntil(s.url, (x) => pageServed(x.status, x.body));
      setProbe(r);
      if (pageServed(r.status, r.body)) {
        setNote("");
        pass();
      } else {
        setError(`${s.url} answered with HTTP ${r.status}.`);
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
      doneText={
        <>
          The container's port 80 is published on <code>{site?.url}</code> — only this computer can reach it. Open it in your browser.
        </>
      }
      intro={
        <>
          <p>
            Now <code>berth/hello</code> runs its web server, serving a folder Berth prepared for you, and publishes its port 80 on your
            computer:
          </p>
          <pre className="code-block">
            docker run -d -p {site?.info.port ?? "PORT"}:80 -v {site?.info.dir ?? "FOLDER"}:/var/www:ro berth/hello
          </pre>
        </>
      }
    >
      <div className="step-action">
        <Button variant="primary" icon={<Globe size={16} />} pending={status === "running"} disabled={!running} onClick={() => void go()} testId={`step-action-${n}`}>
          {status === "done" ? "Start it again" : "Start the web server"}
        </Button>
        {site && probe && (
          <Button icon={<ExternalLink size={15} />} onClick={() => void openUrl(site.url)} testId={`step-open-${n}`}>
            Open in browser
          </Button>
        )}
        {note && <span className="muted">{note}</span>}
      </div>
      {site && probe && <Preview url={site.url} body={probe.body} testId={`step-preview-${n}`} />}
    </StepFrame>
  );
}
