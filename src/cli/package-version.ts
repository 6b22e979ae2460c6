/**
 * The installed package's version, read from its package.json, so `quiver --version` and the MCP
 * server's announced version follow each release with nothing else to bump.
 */
import { readFileSync } from "node:fs";

export function packageVersion(): string {
  try {
    // dist/src/cli/package-version.js -> package.json at the package root.
    return (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string })
      .version;
  } catch {
    return "unknown";
  }
}
