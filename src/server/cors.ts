/**
 * Cross-origin access for pages that call the server from a browser (`quiverdb/client` in a page).
 * Off unless origins are listed. CORS only tells a browser which pages may read the answers; it
 * authorises nothing here, so keys are still required on every actual request, and a preflight
 * (which carries no key) is answered before routing, without reaching the database.
 */
import { QuiverError } from "../core/errors/errors.js";

/** Every method a route answers to, and the headers a client sends (the key travels in one of them). */
const ALLOWED_METHODS = "GET, POST, PUT, DELETE, OPTIONS";
// api-key and x-chroma-token: where the Qdrant and Chroma clients send the key (src/server/compat-routes.ts).
const ALLOWED_HEADERS =
  "authorization, x-api-key, api-key, x-chroma-token, content-type, x-request-id, mcp-session-id, mcp-protocol-version";
/** Headers a page's script may read from an answer, beyond the CORS-safelisted ones. */
const EXPOSED_HEADERS = "quiver-read-units, quiver-write-units, x-request-id, www-authenticate, mcp-session-id";
/** How long a browser may cache a preflight's answer (seconds). */
const PREFLIGHT_MAX_AGE = "600";

/** An origin as browsers send it: scheme, host and an optional port; no path, no trailing slash. */
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/[^/\s?#]+$/i;

export interface CorsPolicy {
  /** Whether pages from `origin` may read the answers (null: no Origin header, not a cross-origin call). */
  admits(origin: string | null): origin is string;
  /** The CORS headers of an answer to a request from `origin` (only `Vary` when it is not admitted). */
  headersFor(origin: string | null): Record<string, string>;
  /** The headers of the answer to an admitted origin's preflight. */
  preflightHeaders(origin: string): Record<string, string>;
}

/** A preflight: the browser asks, without the key or the body, whether it may send the real request. */
export function isPreflight(method: string, requestedMethod: string | null): boolean {
  return method === "OPTIONS" && requestedMethod !== null;
}

/**
 * Builds the policy for `origins` (exact origins such as `https://app.example.com`, or `*` for
 * any), or null when none is listed (CORS off). Rejects malformed origins with INVALID_ARGUMENT,
 * listing every one, before anything is served.
 * @example
 * const cors = corsPolicy(["http://localhost:5173"]);
 */
export function corsPolicy(origins: readonly string[]): CorsPolicy | null {
  if (origins.length === 0) return null;
  const problems = origins
    .map((o, i) => ({ o, i }))
    .filter(({ o }) => o !== "*" && !ORIGIN.test(o))
    .map(({ o, i }) => ({
      path: `corsOrigins[${i}]`,
      message: `"${o}" is not an origin (scheme://host[:port], no path), nor "*"`,
    }));
  if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  const any = origins.includes("*");
  // Browsers send the scheme and host in lower case; a listed origin may have been typed otherwise.
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  const admits = (origin: string | null): origin is string =>
    origin !== null && (any || allowed.has(origin.toLowerCase()));
  return {
    admits,
    headersFor(origin): Record<string, string> {
      // The answer depends on Origin whether or not it is admitted, so caches must key on it.
      if (!admits(origin)) return { vary: "origin" };
      return {
        vary: "origin",
        "access-control-allow-origin": origin,
        "access-control-expose-headers": EXPOSED_HEADERS,
      };
    },
    preflightHeaders(origin) {
      return {
        vary: "origin",
        "access-control-allow-origin": origin,
        "access-control-allow-methods": ALLOWED_METHODS,
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": PREFLIGHT_MAX_AGE,
      };
    },
  };
}
