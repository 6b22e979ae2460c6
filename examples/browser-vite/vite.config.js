// Vite config of the example: ES module workers, so the database's on-demand chunks (the HNSW module)
// load inside the Worker too. `quiverdb` resolves through its package.json exports (browser condition).
import { defineConfig } from "vite";

export default defineConfig({
  worker: { format: "es" },
  build: { target: "es2022" },
});
