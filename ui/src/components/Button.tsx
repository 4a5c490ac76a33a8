import type { ButtonHTMLAttributes, ReactNode } from "react";
import { Spinner } from "./Spinner";

export type ButtonVariant = "primary" | "secondary" | "ghost" | "danger" | "success";

interface Props extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: ButtonVariant;
  size?: "sm" | "md";
  icon?: ReactNode;
  /** Shows a spinner and disables the button while an action runs. */
  pending?: boolean;
  testId?: string;
}

export function Button({ variant = "secondary", size = "md", icon, pending, testId, children, className, disabled, ...rest }: Props) {
  return (
    <button
      type="button"
      {...rest}
      className={`btn btn-${variant} btn-${size}${children ? "" : " btn-icon"}${className ? ` ${className}` : ""}`}
      disabled={disabled || pending}
      aria-busy={pending || undefined}
      data-testid={testId}
    >
      {pending ? <Spinner size={14} /> : icon}
      {children && <span>{children}</span>}
    </button>
  );
}
