/**
 * The foreign HTTP APIs `quiver serve` speaks beside its own, so their official clients work
 * unchanged: Qdrant's REST API at the root (src/server/qdrant-routes.ts) and Chroma's under /api/v2
 * (src/server/chroma-routes.ts). The app matches them
 * after Quiver's own routes, which they never shadow.
 */
import type { Route } from "./routes.js";
import { CHROMA_ROUTES } from "./chroma-routes.js";
import { QDRANT_ROUTES } from "./qdrant-routes.js";

export const COMPAT_ROUTES: readonly Route[] = [...QDRANT_ROUTES, ...CHROMA_ROUTES];
