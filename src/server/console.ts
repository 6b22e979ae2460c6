/**
 * Serving the Quiver Console (console/, built by Vite) at /console: the files come in as a map
 * (an adapter reads them; src/node/console-assets.ts on Node), so this module stays runtime-neutral.
 * The console is a client like any other: it holds no privilege, every call it makes carries the
 * user's key through the API, so serving it needs no key (it is the sign-in page).
 *
 * Headers: hashed files under assets/ never change (cached a year, immutable); index.html is
 * revalidated every time (no-cache) so a new build is picked up. The Content-Security-Policy allows
 * scripts, workers and connections to this origin only, no inline script or style element and no
 * eval but regl's (it compiles its WebGL draw calls with `Function`, so 'unsafe-eval' is granted: no
 * user data reaches it, and inline scripts stay forbidden); 'wasm-unsafe-eval' is not needed.
 */
import type { AppResponse } from "./app.js";

/** One built file: its bytes and its Content-Type. */
export interface ConsoleAsset {
  body: Uint8Array;
  contentType: string;
}

/** Built files by path relative to the console's root, e.g. `index.html`, `assets/index-3f2a.js`. */
export type ConsoleAssets = ReadonlyMap<string, ConsoleAsset>;

/** Where the console is served. */
export const CONSOLE_PATH = "/console";

export const CONSOLE_CSP = [
  "default-src 'none'",
  // regl (under regl-scatterplot) compiles its draw calls with Function: 'unsafe-eval', and no other eval.
  "script-src 'self' 'unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Content-Type by file extension, for the files a Vite build emits. */
export const CONSOLE_CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  json: "application/json",
  txt: "text/plain; charset=utf-8",
};

/** Whether a path is the console's (then `consoleResponse` answers it). */
export function isConsolePath(pathname: string): boolean {
  return pathname === CONSOLE_PATH || pathname.startsWith(`${CONSOLE_PATH}/`);
}

/**
 * The answer to a GET of a console path: the file with its headers, or null when there is no such
 * file. `/console` and `/console/` are the index; the app routes by the URL's hash, so no other
 * path needs to fall back to it.
 */
export function consoleResponse(assets: ConsoleAssets, pathname: string): AppResponse | null {
  const rest = pathname.slice(CONSOLE_PATH.length).replace(/^\/+/, "");
  const file = rest === "" ? "index.html" : rest;
  const asset = assets.get(file);
  if (!asset) return null;
  return {
    status: 200,
    headers: {
      "content-type": asset.contentType,
      "cache-control": file.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      "content-security-policy": CONSOLE_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cross-origin-opener-policy": "same-origin",
    },
    body: asset.body,
  };
}
