/**
 * The Quiver server, runtime-neutral: `startQuiverServer` wires a database, its key store and
 * usage meter into the fetch app. Hosts (src/node/http-server.ts; Bun, Deno, workers) call `fetch`.
 */
import type { Directory } from "../storage/directory.js";
import { createApp, type AppOptions, type QuiverApp } from "./app.js";
import { corsPolicy } from "./cors.js";
import { type KeyFile, KeyStore } from "./keys.js";
import { UsageMeter } from "./usage.js";

export {
  createApp,
  DEFAULT_SERVER_LIMITS,
  type AppOptions,
  type QuiverApp,
  type RequestLog,
  type ServerLimits,
} from "./app.js";
export {
  KeyStore,
  KEYS_FILE,
  directoryKeyFile,
  type KeyFile,
  type KeyRecord,
  type Principal,
  type Scope,
  type Quota,
} from "./keys.js";
export { UsageMeter, USAGE_FILE, unitsFor, type Units, type Cost } from "./usage.js";
export { ROUTES, type Route, type Requirement } from "./routes.js";
export { bodySchemas } from "./bodies.js";
export { corsPolicy, type CorsPolicy } from "./cors.js";

export interface QuiverServer {
  app: QuiverApp;
  keys: KeyStore;
  usage: UsageMeter;
  /** Set on first start when no admin key existed and none was given: print it once. */
  generatedAdminKey?: string;
  /** Saves usage and key files; call before closing the database. */
  flush(): Promise<void>;
}

/**
 * Builds a server over an open database whose files live in `dir` (keys and usage are stored
 * there, beside the database's own files).
 * @example
 * const dir = new NodeDirectory("./quiver-data");
 * const db = await open(dir);
 * const server = await startQuiverServer({ db, dir, adminKey: process.env.QUIVER_ADMIN_KEY });
 */
export async function startQuiverServer(
  opts: Omit<AppOptions, "keys" | "usage"> & {
    dir: Directory;
    /** Where the API keys are kept, when not in `dir` (a cluster keeps them in etcd). */
    keyFile?: KeyFile;
    adminKey?: string;
    rotateAdminKey?: boolean;
    usageFlushMs?: number;
    onWarning?: (m: string) => void;
  },
): Promise<QuiverServer> {
  // Checked first, so a bad origin leaves no key or usage file behind.
  corsPolicy(opts.corsOrigins ?? []);
  const { store, generatedAdminKey } = await KeyStore.open(opts.keyFile ?? opts.dir, {
    adminKey: opts.adminKey,
    rotateAdminKey: opts.rotateAdminKey,
  });
  const usage = await UsageMeter.open(opts.dir, { flushMs: opts.usageFlushMs, onWarning: opts.onWarning });
  const app = createApp({ ...opts, keys: store, usage });
  return {
    app,
    keys: store,
    usage,
    generatedAdminKey,
    async flush() {
      await usage.flush();
      await store.flush();
    },
  };
}
