import { useCallback, useState } from "react";
import { ConfirmDialog, type ConfirmRequest } from "./ConfirmDialog";

/** A confirmation dialog whose confirm button shows progress and closes when the action ends. */
export function useConfirm() {
  const [request, setRequest] = useState<ConfirmRequest | null>(null);
  const [pending, setPending] = useState(false);
  const ask = useCallback((r: ConfirmRequest) => setRequest(r), []);
  const dialog = request ? (
    <ConfirmDialog
      pending={pending}
      onCancel={() => !pending && setRequest(null)}
      request={{
        ...request,
        onConfirm: async () => {
          setPending(true);
          try {
            await request.onConfirm();
          } finally {
            setPending(false);
            setRequest(null);
          }
        },
      }}
    />
  ) : null;
  return { ask, dialog };
}
