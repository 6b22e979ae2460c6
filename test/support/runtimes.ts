/**
 * The JavaScript runtimes the tests run Quiver's processes under: Node (this process's binary), and
 * Bun and Deno from their pinned npm packages (node_modules/.bin). One place says how each runs a
 * script, and whether it is installed, so a test skips a missing runtime loudly, with the reason.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type Runtime = "node" | "bun" | "deno";
export const RUNTIMES: readonly Runtime[] = ["node", "bun", "deno"];

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
/** The compiled `quiver` command. */
export const CLI = join(ROOT, "dist/src/cli/main.js");
const bin = (name: string) => join(ROOT, "node_modules/.bin", name);

/** Why `runtime` cannot run here (its binary is missing), or false. Pass it as a test's `skip`. */
export function missingRuntime(runtime: Runtime): string | false {
  if (runtime === "node" || existsSync(bin(runtime))) return false;
  return `${runtime} is not installed (node_modules/.bin/${runtime} missing: npm install without optional dependencies?)`;
}

/**
 * The executable and arguments that run `script` with `args` under `runtime`. Deno gets
 * `--allow-all` (files, environment, network, signals) and no other flag: it finds the analyzers'
 * npm packages in node_modules by itself.
 */
export function runtimeCommand(runtime: Runtime, script: string, args: readonly string[] = []): [string, string[]] {
  if (runtime === "node") return [process.execPath, [script, ...args]];
  if (runtime === "bun") return [bin("bun"), [script, ...args]];
  return [bin("deno"), ["run", "--allow-all", script, ...args]];
}

export interface ServeProcess {
  url: string;
  stdout(): string;
  /** SIGTERM, then the exit code and stderr. */
  stop(): Promise<{ code: number | null; stderr: string }>;
}

/** Starts `quiver serve --db <data> --port 0 --no-log <extra>` under `runtime`; resolves once its banner is out. */
export function startServe(runtime: Runtime, data: string, extra: readonly string[] = []): Promise<ServeProcess> {
  const env = { ...process.env };
  delete env.QUIVER_ADMIN_KEY;
  const [exe, argv] = runtimeCommand(runtime, CLI, ["serve", "--db", data, "--port", "0", "--no-log", ...extra]);
  const child: ChildProcessWithoutNullStreams = spawn(exe, argv, { env, stdio: "pipe" });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${runtime}: no banner within 20 s: ${out} ${err}`));
    }, 20_000);
    child.once("exit", (code) => reject(new Error(`${runtime}: exited ${code}: ${err}`)));
    child.stdout.on("data", () => {
      const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m && out.includes("Ctrl-C")) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve({
          url: m[1],
          stdout: () => out,
          stop: () =>
            new Promise((res) => {
              if (child.exitCode !== null) return res({ code: child.exitCode, stderr: err });
              child.once("exit", (code) => res({ code, stderr: err }));
              child.kill("SIGTERM");
            }),
        });
      }
    });
  });
}
