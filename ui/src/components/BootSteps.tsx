import { Check, X } from "lucide-react";
import type { Phase } from "../api";
import { BOOT_PHASES, bootProgress, phaseInfo } from "../lib/engine";
import { Spinner } from "./Spinner";

/** The boot sequence with the current phase highlighted. */
export function BootSteps({ phase, reached }: { phase: Phase | string; reached: Set<string> }) {
  const states = bootProgress(phase, reached);
  return (
    <ol className="boot-steps">
      {BOOT_PHASES.map((p, i) => (
        <li key={p} className={`boot-step boot-${states[i]}`}>
          <span className="boot-marker">
            {states[i] === "done" ? <Check size={13} /> : states[i] === "active" ? <Spinner size={13} /> : states[i] === "failed" ? <X size={13} /> : i + 1}
          </span>
          <span>{phaseInfo(p).label}</span>
        </li>
      ))}
    </ol>
  );
}
