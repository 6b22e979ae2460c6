/**
 * Launches Debian's Chromium (/usr/bin/chromium, installed by .ci/run) headless through playwright-core,
 * never a tool's own browser download. Shared by the browser and console tests; the caller closes it.
 */
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags that keep a test browser quiet and offline: no sandbox (CI containers), no background traffic. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-gpu",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

/** Starts headless Chromium; fails with a clear message when it is not installed (no silent skip). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing: the browser tests need Debian's chromium (apt-get install chromium; .ci/run installs it)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}
