import { useCallback, useEffect, useState } from "react";
import { errorMessage, onboardingGet, onboardingSet, onNavigate, onOpenOnboarding, type OnboardingState, type ViewName } from "./api";
import { Sidebar } from "./components/Sidebar";
import { Toasts } from "./components/Toasts";
import { openTour, shouldAutoOpen, type Tour } from "./lib/onboarding";
import { DockerProvider } from "./state/docker";
import { EngineProvider } from "./state/engine";
import { ToastProvider, useToasts } from "./state/toasts";
import { ContainersView } from "./views/containers/ContainersView";
import { DashboardView } from "./views/dashboard/DashboardView";
import { ImagesView } from "./views/images/ImagesView";
import { Onboarding } from "./views/onboarding/Onboarding";
import { SettingsView } from "./views/settings/SettingsView";
import { VolumesView } from "./views/volumes/VolumesView";

const VIEWS: ViewName[] = ["dashboard", "containers", "images", "volumes", "settings"];

function Shell() {
  const [view, setView] = useState<ViewName>("dashboard");
  const [selected, setSelected] = useState<string | null>(null);
  const [tour, setTour] = useState<Tour | null>(null);
  const [saved, setSaved] = useState<OnboardingState>({ completed: false, skipped: false, step: 1 });
  const { push } = useToasts();

  const openOnboarding = useCallback(() => {
    onboardingGet()
      .then((s) => setTour(openTour(s)))
      .catch(() => setTour(openTour(saved)));
  }, [saved]);

  useEffect(() => {
    onboardingGet()
      .then((s) => {
        setSaved(s);
        if (shouldAutoOpen(s)) setTour(openTour(s));
      })
      .catch((e) => push({ tone: "error", title: "Could not read the tutorial's progress", message: errorMessage(e) }));
  }, [push]);

  useEffect(() => {
    const unlisten = [
      onOpenOnboarding(() => openOnboarding()),
      onNavigate((v) => {
        if (VIEWS.includes(v)) {
          setTour((t) => (t ? { ...t, open: false } : t));
          setView(v);
        }
      }),
    ];
    return () => unlisten.forEach((p) => void p.then((fn) => fn()).catch(() => undefined));
  }, [openOnboarding]);

  const persist = useCallback(
    (s: OnboardingState) => {
      setSaved(s);
      void onboardingSet(s).catch((e) => push({ tone: "error", title: "Could not save the tutorial's progress", message: errorMessage(e) }));
    },
    [push],
  );

  const showContainer = useCallback((id: string | null) => {
    setSelected(id);
    setView("containers");
  }, []);

  return (
    <div className="app">
      <Sidebar view={view} onNavigate={setView} onTutorial={openOnboarding} />
      <main className="main" data-view={view}>
        {view === "dashboard" && <DashboardView onNavigate={setView} onTutorial={openOnboarding} />}
        {view === "containers" && <ContainersView selected={selected} onSelect={setSelected} />}
        {view === "images" && <ImagesView onRan={showContainer} />}
        {view === "volumes" && <VolumesView />}
        {view === "settings" && <SettingsView />}
      </main>
      {tour?.open && (
        <Onboarding
          tour={tour}
          onChange={setTour}
          onPersist={persist}
          onClose={(dest) => {
            setTour(null);
            if (dest) setView(dest);
          }}
        />
      )}
      <Toasts />
    </div>
  );
}

export function App() {
  return (
    <ToastProvider>
      <EngineProvider>
        <DockerProvider>
          <Shell />
        </DockerProvider>
      </EngineProvider>
    </ToastProvider>
  );
}
