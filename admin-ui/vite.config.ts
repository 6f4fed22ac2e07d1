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
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
  },
});
