import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import "./styles/tokens.css";
import "./styles/base.css";
import "./styles/components.css";
import "./styles/layout.css";
import "./styles/views.css";
import "./styles/onboarding.css";

function render() {
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

// `npm run dev` + `?fake` runs the UI against an in-memory backend (src/dev/) to work on the
// layout without Tauri. The branch is removed from production builds (import.meta.env.DEV).
if (import.meta.env.DEV && new URLSearchParams(window.location.search).has("fake")) {
  void import("./dev/fakeBackend").then(({ installFakeBackend }) => {
    installFakeBackend(new URLSearchParams(window.location.search));
    render();
  });
} else {
  render();
}
