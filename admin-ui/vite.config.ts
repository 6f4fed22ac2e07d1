import { defineConfig } from "vite";

// Built into the broker jar under static/admin, served by the broker at /admin.
export default defineConfig({
  base: "/admin/",
  build: {
    outDir: process.env.POSTERN_ADMIN_OUT ?? "dist",
    emptyOutDir: true,
  },
});
