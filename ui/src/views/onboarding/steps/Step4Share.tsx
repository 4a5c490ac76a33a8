import { FilePen, RefreshCw } from "lucide-react";
import { useState } from "react";
import { errorMessage, tutorialEdit, type ProbeResult } from "../../../api";
import { Button } from "../../../components/Button";
import { CopyButton } from "../../../components/CopyButton";
import { makeToken, pageHasToken, tutorialPage } from "../../../lib/onboarding";
import { useEngineRunning } from "../../../state/engine";
import { ensureWebSite, probeUntil, type WebSite } from "../tutorial";
import { Preview, StepFrame } from "../StepFrame";
import type { StepProps } from "../types";

export function Step4Share({ n, status, setStatus, pass, session, update }: StepProps) {
  const running = useEngineRunning();
  const [message, setMessage] = useState("Hello from my computer!");
  const [probe, setProbe] = useState<ProbeResult | null>(null);
  const [note, setNote] = useState("");
  const [error, setError] = useState<string | null>(null);
  const site = session.site;

  const withSite = async (): Promise<WebSite> => {
    const s = await ensureWebSite(site);
    if (s !== site) update({ site: s });
    return s;
  };

  const fail = (text: string) => {
    setError(text);
    setStatus("failed");
    setNote("");
  };

  const editForMe = async () => {
    setStatus("running");
    setError(null);
    try {
      const s = await withSite();
      const token = makeToken();
      setNote("Writing index.html on your computer…");
      await tutorialEdit(tutorialPage(message, token));
      setNote("Reloading the page…");
      const r = await probeUntil(s.url, (x) => pageHasToken(x.body, token), 10, 300);
      setProbe(r);
      if (pageHasToken(r.body, token)) {
        setNote("");
        pass();
      } else fail("The container still serves the old page.");
    } catch (e) {
      fail(errorMessage(e));
    }
  };

  const reload = async () => {
    setStatus("running");
    setError(null);
    try {
      const s = await withSite();
      const before = probe?.body ?? null;
      const r = await probeUntil(s.url, () => true, 10, 300);
      setProbe(r);
      if (before !== null && r.body !== before) {
        setNote("");
        pass();
      } else {
        setStatus("idle");
        setNote(before === null ? "This is the page now. Edit the file, then reload." : "The page has not changed yet: save the file, then reload.");
      }
    } catch (e) {
      fail(errorMessage(e));
    }
  };

  return (
    <StepFrame
      status={status}
      error={error}
      doneText={<>The file changed on your computer and the container served the new version at once: the folder is shared, not copied.</>}
      intro={
        <>
          <p>The web server reads its page from a folder on your computer. Change the file and the container sees the change immediately.</p>
          {site && (
            <div className="path-row">
              <span className="mono ellipsis">{site.info.file}</span>
              <CopyButton text={site.info.file} />
            </div>
          )}
        </>
      }
    >
      <div className="step-form">
        <label className="field grow">
          <span className="field-label">New heading for the page</span>
          <input value={message} onChange={(e) => setMessage(e.target.value)} maxLength={80} data-testid="step-message-4" />
        </label>
      </div>
      <div className="step-action">
        <Button variant="primary" icon={<FilePen size={16} />} pending={status === "running"} disabled={!running || !message.trim()} onClick={() => void editForMe()} testId={`step-action-${n}`}>
          Edit index.html for me
        </Button>
        <Button icon={<RefreshCw size={15} />} disabled={!running || status === "running"} onClick={() => void reload()} testId={`step-reload-${n}`}>
          I edited it myself — reload
        </Button>
        {note && <span className="muted">{note}</span>}
      </div>
      {site && probe && <Preview url={site.url} body={probe.body} testId={`step-preview-${n}`} />}
    </StepFrame>
  );
}
