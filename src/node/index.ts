/**
 * `quiverdb/node`: the Node adapters on their own (also used under Bun and Deno): the file-system
 * directory with its process lock, and the HTTP server that serves the fetch-style app on node:http.
 */
export { NodeDirectory, LOCK_FILE, type LockInfo } from "./fs-directory.js";
export { serveApp, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits, type HttpServerHandle } from "./http-server.js";
