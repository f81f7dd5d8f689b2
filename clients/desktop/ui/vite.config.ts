import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Everything is bundled into dist/, which the Tauri app embeds: no CDN, no remote
// content. The translations come from the shared Fluent files in clients/l10n.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    target: "es2022",
    // No inline scripts or styles, for the strict CSP (script-src 'self').
    assetsInlineLimit: 0,
    cssCodeSplit: false,
  },
  server: { fs: { allow: ["..", "../../l10n"] } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
