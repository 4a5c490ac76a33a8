import { SquareTerminal } from "lucide-react";
import type { ContainerSummary } from "../../api";
import { EmptyState } from "../../components/EmptyState";
import { TerminalView } from "../../components/TerminalView";

export function TerminalTab({ container }: { container: ContainerSummary }) {
  if (container.State !== "running") {
    return (
      <EmptyState icon={<SquareTerminal size={28} />} title="The container is not running">
        Start it to open a shell inside.
      </EmptyState>
    );
  }
  return <TerminalView containerId={container.Id} />;
}
