import { useCallback, useState } from "react";
import { errorMessage } from "../api";
import { useToasts } from "../state/toasts";

/**
 * Runs async actions keyed by a name, tracks which are pending, and reports failures as an
 * error toast with the engine's message (unless `quiet`). Returns whether it succeeded.
 */
export function usePending() {
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set());
  const { push } = useToasts();

  const run = useCallback(
    async (key: string, fn: () => Promise<unknown>, opts: { errorTitle?: string; quiet?: boolean } = {}) => {
      setPending((p) => new Set(p).add(key));
      try {
        await fn();
        return true;
      } catch (e) {
        if (!opts.quiet) push({ tone: "error", title: opts.errorTitle ?? "Something went wrong", message: errorMessage(e) });
        return false;
      } finally {
        setPending((p) => {
          const n = new Set(p);
          n.delete(key);
          return n;
        });
      }
    },
    [push],
  );

  return { pending, isPending: (key: string) => pending.has(key), run };
}
