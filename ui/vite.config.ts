import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The app runs inside Tauri's webview: WebKitGTK on Linux, WKWebView on macOS,
// WebView2 on Windows. safari15 / es2021 is what the oldest of them understands.
export default defineConfig({
  base: "./",
  plugins: [react()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    host: "127.0.0.1",
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: ["es2021", "safari15"],
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
    setupFiles: ["src/test/setup.ts"],
  },
});
