/**
 * Headless Debian Chromium driven by playwright-core (never a downloaded browser), for the console's
 * end-to-end tests and its benchmark. WebGL runs on SwiftShader (software), since CI has no GPU.
 * A missing Chromium fails loudly: .ci/run installs it.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = process.env.QUIVER_CHROMIUM ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's chromium (.ci/run does) or set QUIVER_CHROMIUM`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-gpu",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
      // WebGL without a GPU: ANGLE on SwiftShader, which Chromium only allows when asked.
      "--use-angle=swiftshader",
      "--enable-unsafe-swiftshader",
    ],
  });
}
