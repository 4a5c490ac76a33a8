import type { ReactNode } from "react";
import { Banner } from "../../components/Banner";
import type { StepStatus } from "../../lib/onboarding";

/** The common layout of a step: what happens, the action, the visible result, the verdict. */
export function StepFrame({
  intro,
  children,
  status,
  doneText,
  error,
}: {
  intro: ReactNode;
  children: ReactNode;
  status: StepStatus;
  doneText: ReactNode;
  error?: string | null;
}) {
  return (
    <div className="step">
      <div className="step-intro">{intro}</div>
      {children}
      {status === "done" && (
        <Banner tone="success" title="It worked" testId="step-passed">
          {doneText}
        </Banner>
      )}
      {status === "failed" && error && (
        <Banner tone="danger" title="That did not work" testId="step-failed">
          {error}
        </Banner>
      )}
    </div>
  );
}

export function Output({ title, children, testId }: { title: string; children: ReactNode; testId?: string }) {
  return (
    <div className="output">
      <div className="output-title">{title}</div>
      <pre className="output-body" data-testid={testId}>
        {children}
      </pre>
    </div>
  );
}

export function Preview({ url, body, testId }: { url: string; body: string; testId?: string }) {
  return (
    <div className="preview" data-testid={testId}>
      <div className="preview-bar">
        <span className="preview-dots">
          <i />
          <i />
          <i />
        </span>
        <span className="preview-url mono">{url}</span>
      </div>
      {/* The probed body, rendered without scripts or network: what a browser would show. */}
      <iframe className="preview-frame" title={`Page served at ${url}`} sandbox="" srcDoc={body} />
    </div>
  );
}
