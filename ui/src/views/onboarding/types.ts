import type { StepStatus } from "../../lib/onboarding";
import type { WebSite } from "./tutorial";

/** What the steps share during one opening of the tutorial. */
export interface Session {
  site: WebSite | null;
}

export interface StepProps {
  n: number;
  status: StepStatus;
  setStatus: (s: StepStatus) => void;
  /** The step's check passed: mark it done and save progress. */
  pass: () => void;
  session: Session;
  update: (p: Partial<Session>) => void;
}
