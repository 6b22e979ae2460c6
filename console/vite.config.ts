// Builds the Quiver Console (console/) into dist/console, served by `quiver serve` at /console.
// `quiverdb/client` resolves to the package's own compiled client (dist/src/client, built by tsc
// just before), so the console talks to the server exactly as any user of the package does.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "/console/",
  logLevel: "warn",
  resolve: {
    alias: { "quiverdb/client": fileURLToPath(new URL("../dist/src/client/index.js", import.meta.url)) },
  },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  worker: { format: "es" },
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    // The polyfill would be an inline script, which the Content-Security-Policy forbids.
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
});
