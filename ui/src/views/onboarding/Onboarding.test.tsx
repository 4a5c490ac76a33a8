import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setBackend, type Backend, type EngineStatus, type OnboardingState } from "../../api";
import { openTour, type Tour } from "../../lib/onboarding";
import { DockerProvider } from "../../state/docker";
import { EngineProvider } from "../../state/engine";
import { ToastProvider } from "../../state/toasts";
import { Onboarding } from "./Onboarding";

const running: EngineStatus = {
  daemonRunning: true, phase: "running", lastError: null, backend: "qemu", cpus: 2, memoryMib: 2048, shares: [],
  dockerSocket: "/tmp/docker.sock", versions: { app: "0.1.0", daemon: "0.1.0", agent: "0.1.0", kernel: "6.1" },
  uptimeMs: 1000, engine: "berth", ports: [], portErrors: [], disk: { mounted: true, totalBytes: 64e9, freeBytes: 60e9 },
};

function fakeBackend(overrides: Record<string, (args: Record<string, unknown>) => unknown> = {}): Backend & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    channel: (onMessage) => ({ onmessage: onMessage }),
    listen: async () => () => undefined,
    async invoke<T>(cmd: string, args: Record<string, unknown> = {}) {
      calls.push(cmd);
      if (overrides[cmd]) return overrides[cmd](args) as T;
      switch (cmd) {
        case "engine_status":
          return running as T;
        case "containers_list":
          return [] as T;
        default:
          return 1 as T;
      }
    },
  };
}

function Harness({ saved, onPersist, onClose }: { saved: OnboardingState; onPersist: (s: OnboardingState) => void; onClose: () => void }) {
  const [tour, setTour] = useState<Tour>(() => openTour(saved));
  return (
    <ToastProvider>
      <EngineProvider>
        <DockerProvider>
          <Onboarding tour={tour} onChange={setTour} onPersist={onPersist} onClose={onClose} />
        </DockerProvider>
      </EngineProvider>
    </ToastProvider>
  );
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe("Onboarding", () => {
  it("passes step 1 when the engine runs, saves, and lets the user go on", async () => {
    setBackend(fakeBackend());
    const onPersist = vi.fn();
    render(<Harness saved={{ completed: false, skipped: false, step: 1 }} onPersist={onPersist} onClose={() => undefined} />);
    expect(screen.getByTestId("onboarding")).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId("step-status-1").textContent).toBe("done"));
    expect(onPersist).toHaveBeenCalledWith({ completed: false, skipped: false, step: 2 });
    const next = screen.getByTestId("onboarding-next") as HTMLButtonElement;
    expect(next.disabled).toBe(false);
    act(() => next.click());
    expect(screen.getByTestId("onboarding-step-2").hidden).toBe(false);
    expect((screen.getByTestId("onboarding-next") as HTMLButtonElement).disabled).toBe(true);
  });

  it("resumes at the saved step and skipping remembers it", async () => {
    setBackend(fakeBackend({ engine_status: () => ({ ...running, phase: "stopped" }) }));
    const onPersist = vi.fn();
    const onClose = vi.fn();
    render(<Harness saved={{ completed: false, skipped: true, step: 3 }} onPersist={onPersist} onClose={onClose} />);
    expect(screen.getByText("Step 3 of 7")).toBeTruthy();
    fireEvent.click(screen.getByTestId("onboarding-skip"));
    expect(onPersist).toHaveBeenCalledWith({ completed: false, skipped: true, step: 3 });
    expect(onClose).toHaveBeenCalled();
  });

  it("step 2 runs berth/hello and shows its output", async () => {
    const lines = ["Hello from your first Berth container!", "I am running on Linux 6.1."];
    setBackend({
      ...fakeBackend({
        container_run: (a) => {
          expect(a.spec).toMatchObject({ image: "berth/hello", name: "berth-tutorial-hello" });
          return "abc";
        },
        container_wait: () => 0,
      }),
      // container_logs answers on its channel
      async invoke<T>(cmd: string, args: Record<string, unknown> = {}) {
        if (cmd === "container_logs") {
          const ch = args.onLine as { onmessage: (m: unknown) => void };
          setTimeout(() => {
            lines.forEach((text) => ch.onmessage({ kind: "line", stream: "stdout", text: `${text}\n` }));
            ch.onmessage({ kind: "end" });
          });
          return 7 as T;
        }
        return fakeBackend({ container_run: () => "abc", container_wait: () => 0 }).invoke<T>(cmd, args);
      },
    });
    render(<Harness saved={{ completed: false, skipped: false, step: 2 }} onPersist={() => undefined} onClose={() => undefined} />);
    await waitFor(() => expect((screen.getByTestId("step-action-2") as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByTestId("step-action-2"));
    await waitFor(() => expect(screen.getByTestId("step-status-2").textContent).toBe("done"));
    expect(screen.getByTestId("step-output-2").textContent).toContain("Hello from your first Berth container!");
  });
});
