import { backend, call } from "./backend";
import type {
  HostInfo,
  OnboardingState,
  ProbeResult,
  Settings,
  SettingsResult,
  TutorialInfo,
  ViewName,
} from "./types";

export const settingsGet = () => call<Settings>("settings_get");
/** Rejects naming the bad field. */
export const settingsSet = (settings: Settings) => call<SettingsResult>("settings_set", { settings });
export const hostInfo = () => call<HostInfo>("host_info");

export const onboardingGet = () => call<OnboardingState>("onboarding_get");
export const onboardingSet = (state: OnboardingState) => call<null>("onboarding_set", { state });
export const tutorialPrepare = () => call<TutorialInfo>("tutorial_prepare");
export const tutorialEdit = (text: string) => call<null>("tutorial_edit", { text });

/** GET of an http://127.0.0.1 or localhost URL from the Rust side (first 64 KiB). */
export const probeUrl = (url: string) => call<ProbeResult>("probe_url", { url });
/** Opens an http(s) URL in the user's browser. */
export const openUrl = (url: string) => call<null>("open_url", { url });

/** Help → Tutorial (menu or tray). */
export const onOpenOnboarding = (handler: () => void) => backend().listen<unknown>("open-onboarding", () => handler());
/** The tray's quick actions. */
export const onNavigate = (handler: (view: ViewName) => void) =>
  backend().listen<ViewName>("navigate", (view) => handler(view));
