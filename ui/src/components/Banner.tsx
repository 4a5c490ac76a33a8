import { AlertTriangle, CheckCircle2, Info, XCircle } from "lucide-react";
import type { ReactNode } from "react";

export type BannerTone = "info" | "success" | "warning" | "danger";

const ICONS = { info: Info, success: CheckCircle2, warning: AlertTriangle, danger: XCircle };

/** An inline message where the problem is; `danger` banners carry the engine's own message. */
export function Banner({
  tone = "info",
  title,
  children,
  action,
  testId,
}: {
  tone?: BannerTone;
  title?: ReactNode;
  children?: ReactNode;
  action?: ReactNode;
  testId?: string;
}) {
  const Icon = ICONS[tone];
  return (
    <div className={`banner banner-${tone}`} role={tone === "danger" ? "alert" : "status"} data-testid={testId}>
      <Icon size={18} className="banner-icon" />
      <div className="banner-body">
        {title && <div className="banner-title">{title}</div>}
        {children && <div className="banner-text">{children}</div>}
      </div>
      {action && <div className="banner-action">{action}</div>}
    </div>
  );
}
