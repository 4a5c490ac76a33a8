import type { ReactNode } from "react";
import { Button } from "./Button";
import { Modal } from "./Modal";

export interface ConfirmRequest {
  title: string;
  body: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => Promise<unknown> | void;
}

export function ConfirmDialog({ request, pending, onCancel }: { request: ConfirmRequest; pending: boolean; onCancel: () => void }) {
  return (
    <Modal
      title={request.title}
      onClose={onCancel}
      testId="confirm-dialog"
      footer={
        <>
          <Button variant="ghost" onClick={onCancel} testId="confirm-no">
            Cancel
          </Button>
          <Button variant={request.danger ? "danger" : "primary"} pending={pending} onClick={() => void request.onConfirm()} testId="confirm-yes">
            {request.confirmLabel}
          </Button>
        </>
      }
    >
      <div className="confirm-body">{request.body}</div>
    </Modal>
  );
}
