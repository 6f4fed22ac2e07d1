/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// Built into the broker jar under static/admin, served by the broker at /admin.
// JSX goes through Vite's own transformer (automatic runtime): no React plugin is needed.
export default defineConfig({
  base: "/admin/",
  build: {
    outDir: process.env.POSTERN_ADMIN_OUT ?? "dist",
    emptyOutDir: true,
  },
  // `npm run dev` talks to a running broker (scripts/run) through this proxy, so the session
  // cookie stays same-origin exactly as when the broker serves the built app.
  server: {
    proxy: Object.fromEntries(
      ["/v1", "/admin/session", "/actuator"].map((path) => [path, process.env.POSTERN_URL ?? "http://127.0.0.1:8080"]),
    ),
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
    // getByRole computes accessible names over the whole page: slow on a busy shared machine.
    testTimeout: 30_000,
  },
});
