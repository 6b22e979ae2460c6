/**
 * Reads the built console (dist/console, written by `npm run build:console`) into the map the
 * server app serves at /console (src/server/console.ts). Read once at start: the files are small
 * (a few hundred KiB) and never change while the server runs.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { CONSOLE_CONTENT_TYPES, type ConsoleAsset, type ConsoleAssets } from "../server/console.js";

/** dist/console beside dist/src, where the package ships it. */
export const BUILT_CONSOLE_DIR = fileURLToPath(new URL("../../console/", import.meta.url));

/** The console's files, or null when it was not built (the server then runs without it). */
export function loadConsoleAssets(root = BUILT_CONSOLE_DIR): ConsoleAssets | null {
  if (!existsSync(join(root, "index.html"))) return null;
  const assets = new Map<string, ConsoleAsset>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const type = CONSOLE_CONTENT_TYPES[extname(entry.name).slice(1)];
        // Source maps and anything of an unknown type are not served.
        if (type)
          assets.set(relative(root, path).split(sep).join("/"), { body: readFileSync(path), contentType: type });
      }
    }
  };
  walk(root);
  return assets;
}
