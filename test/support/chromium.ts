/**
 * Launches Debian's Chromium (/usr/bin/chromium, installed by .ci/run) headless through playwright-core,
 * never a tool's own browser download. Shared by the browser and console tests and their benches; the
 * caller closes it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

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

function mustExist(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing: the browser tests need Debian's chromium (apt-get install chromium; .ci/run installs it)`,
    );
  }
}

/**
 * WebGL without a GPU (CI has none): ANGLE on SwiftShader, which Chromium only allows when asked.
 * The console's map draws with WebGL and needs these.
 */
export const SOFTWARE_WEBGL_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"];

export interface ChromiumOptions {
  /** Enable WebGL on SwiftShader (software): for pages that draw with WebGL, such as the console's map. */
  softwareWebGL?: boolean;
}

/** Starts headless Chromium; fails with a clear message when it is not installed (no silent skip). */
export async function launchChromium(options: ChromiumOptions = {}): Promise<Browser> {
  mustExist();
  const args = options.softwareWebGL ? [...CHROMIUM_ARGS, ...SOFTWARE_WEBGL_ARGS] : CHROMIUM_ARGS;
  return chromium.launch({ executablePath: CHROMIUM_PATH, args, headless: true });
}

/**
 * Starts headless Chromium on the profile in `userDataDir`, so storage (OPFS, IndexedDB) outlives the
 * browser: a second launch on the same folder sees what the first one wrote.
 */
export async function launchPersistentChromium(userDataDir: string): Promise<BrowserContext> {
  mustExist();
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    headless: true,
  });
}

/**
 * Kills (SIGKILL) the browser process of the profile in `userDataDir`, as a crash or a power cut
 * would stop it: no unload, no flush. Found by its command line (Linux /proc); the caller started it.
 */
export function killChromium(userDataDir: string): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // the process ended while we looked
    }
    // The browser process is the one with this profile and no --type (renderers, GPU and utilities have one).
    if (args.includes(`--user-data-dir=${userDataDir}`) && !args.some((a) => a.startsWith("--type="))) {
      process.kill(Number(entry), "SIGKILL");
      return Number(entry);
    }
  }
  throw new Error(`no Chromium browser process found for ${userDataDir}`);
}
