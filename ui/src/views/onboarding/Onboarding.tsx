import { ArrowLeft, ArrowRight, Check, PartyPopper, X } from "lucide-react";
import { useCallback, useRef, useState, type ComponentType } from "react";
import type { OnboardingState, ViewName } from "../../api";
import { Button } from "../../components/Button";
import { Logo } from "../../components/Logo";
import { canGoNext, completeStep, finishTour, goTo, setStatus, skipTour, STEP_COUNT, STEPS, type StepStatus, type Tour } from "../../lib/onboarding";
import { Step1Engine } from "./steps/Step1Engine";
import { Step2Hello } from "./steps/Step2Hello";
import { Step3Publish } from "./steps/Step3Publish";
import { Step4Share } from "./steps/Step4Share";
import { Step5Terminal } from "./steps/Step5Terminal";
import { Step6Cli } from "./steps/Step6Cli";
import { Step7Cleanup } from "./steps/Step7Cleanup";
import type { Session, StepProps } from "./types";

const STEP_VIEWS: ComponentType<StepProps>[] = [Step1Engine, Step2Hello, Step3Publish, Step4Share, Step5Terminal, Step6Cli, Step7Cleanup];

function StepMarker({ n, status, current }: { n: number; status: StepStatus; current: boolean }) {
  return (
    <span className={`step-marker step-marker-${status}${current ? " step-marker-current" : ""}`}>
      {status === "done" ? <Check size={14} strokeWidth={3} /> : n}
    </span>
  );
}

export function Onboarding({
  tour,
  onChange,
  onPersist,
  onClose,
}: {
  tour: Tour;
  onChange: (t: Tour) => void;
  onPersist: (s: OnboardingState) => void;
  onClose: (dest?: ViewName) => void;
}) {
  const [session, setSession] = useState<Session>({ site: null });
  // Steps stay mounted once visited, so their results (and step 5's terminal) survive Back.
  const [visited, setVisited] = useState<Set<number>>(() => new Set([tour.current]));
  const update = useCallback((p: Partial<Session>) => setSession((s) => ({ ...s, ...p })), []);

  // Steps call back after awaits: they must change the latest tour, not the one they saw.
  const latest = useRef(tour);
  latest.current = tour;
  const apply = (next: Tour) => {
    latest.current = next;
    onChange(next);
  };
  const go = (n: number) => {
    setVisited((v) => new Set(v).add(n));
    apply(goTo(latest.current, n));
  };
  const makeStepProps = (n: number): StepProps => ({
    n,
    status: tour.statuses[n - 1],
    setStatus: (s) => apply(setStatus(latest.current, n, s)),
    pass: () => {
      const r = completeStep(latest.current, n);
      apply(r.tour);
      onPersist(r.persist);
    },
    session,
    update,
  });

  const current = tour.current;
  const step = STEPS[current - 1];
  const doneCount = tour.statuses.filter((s) => s === "done").length;
  const last = current === STEP_COUNT;

  return (
    <div className="onboarding" data-testid="onboarding" role="dialog" aria-modal="true" aria-label="Berth tutorial">
      <aside className="onboarding-rail">
        <div className="onboarding-brand">
          <Logo size={30} />
          <div>
            <div className="onboarding-brand-title">Welcome to Berth</div>
            <div className="muted small">
              {doneCount} of {STEP_COUNT} steps done
            </div>
          </div>
        </div>
        <ol className="stepper">
          {STEPS.map((s) => {
            const status = tour.statuses[s.n - 1];
            return (
              <li key={s.n}>
                <button type="button" className={`stepper-item${s.n === current ? " stepper-current" : ""}`} onClick={() => go(s.n)} data-testid={`onboarding-goto-${s.n}`}>
                  <StepMarker n={s.n} status={status} current={s.n === current} />
                  <span className="stepper-text">
                    <span className="stepper-title">{s.title}</span>
                    <span className="stepper-summary">{s.summary}</span>
                  </span>
                  <span className={`step-chip step-chip-${status}`} data-testid={`step-status-${s.n}`}>
                    {status === "idle" ? "" : status}
                  </span>
                </button>
              </li>
            );
          })}
        </ol>
        <div className="onboarding-rail-footer muted small">You can leave at any time; Help → Tutorial brings you back to where you were.</div>
      </aside>

      <section className="onboarding-main">
        <header className="onboarding-header">
          <div>
            <div className="eyebrow">
              Step {current} of {STEP_COUNT}
            </div>
            <h1>{step.title}</h1>
          </div>
          <Button variant="ghost" icon={<X size={16} />} onClick={() => {
              onPersist(skipTour(tour).persist);
              onClose();
            }} testId="onboarding-skip">
            Skip tutorial
          </Button>
        </header>
        <div className="onboarding-progress">
          <div className="onboarding-progress-fill" style={{ width: `${(doneCount / STEP_COUNT) * 100}%` }} />
        </div>

        <div className="onboarding-body">
          {STEP_VIEWS.map((View, i) => {
            const n = i + 1;
            if (!visited.has(n)) return null;
            return (
              <div key={n} className="onboarding-step" data-testid={`onboarding-step-${n}`} hidden={n !== current}>
                <View {...makeStepProps(n)} />
              </div>
            );
          })}
        </div>

        <footer className="onboarding-footer">
          <Button variant="ghost" icon={<ArrowLeft size={16} />} disabled={current === 1} onClick={() => go(current - 1)} testId="onboarding-back">
            Back
          </Button>
          <span className="grow" />
          {!last && tour.statuses[current - 1] !== "done" && (
            <button type="button" className="link muted" onClick={() => go(current + 1)} data-testid="onboarding-later">
              Do this later
            </button>
          )}
          {last ? (
            <Button
              variant="primary"
              icon={<PartyPopper size={16} />}
              disabled={tour.statuses[STEP_COUNT - 1] !== "done"}
              onClick={() => {
                const r = finishTour(tour);
                onPersist(r.persist);
                onClose("containers");
              }}
              testId="onboarding-done"
            >
              Finish
            </Button>
          ) : (
            <Button variant="primary" disabled={!canGoNext(tour)} onClick={() => go(current + 1)} testId="onboarding-next">
              Next <ArrowRight size={16} />
            </Button>
          )}
        </footer>
      </section>
    </div>
  );
}
