/**
 * Quiver cluster nodes as real processes (`quiver serve --cluster`, the compiled CLI) for the cluster
 * tests: started on loopback against a test's etcd and s3rver, each on a free port, and stopped by
 * the test (SIGTERM: it leaves the cluster; SIGKILL: it just dies). stderr is kept for failures.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type S3Stand, freePort } from "./cluster-services.js";

/** The CLI the nodes run: this build's, or another build's (QUIVER_NODE_CLI, for before/after benchmarks). */
const CLI = process.env.QUIVER_NODE_CLI ?? fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
export const ADMIN_KEY = "cluster-test-admin-key-0123456789";

export interface NodeSettings {
  etcd: string;
  s3: S3Stand;
  etcdPrefix: string;
  shards: number;
  replicas: number;
  leaseMs: number;
}

export class QuiverNode {
  private stderr = "";
  private constructor(
    readonly id: string,
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    child.stderr?.on("data", (chunk) => {
      this.stderr += String(chunk);
    });
  }

  /** `extra`: more flags (--compact-after, --cache-dir, ...). */
  static async start(
    id: string,
    settings: NodeSettings,
    roles = "writer,query,indexer",
    extra: string[] = [],
  ): Promise<QuiverNode> {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        CLI,
        "serve",
        "--cluster",
        "--no-log",
        `--etcd=${settings.etcd}`,
        `--s3=${settings.s3.endpoint}/${settings.s3.bucket}/${settings.etcdPrefix}`,
        `--node-id=${id}`,
        `--roles=${roles}`,
        `--port=${port}`,
        `--etcd-prefix=${settings.etcdPrefix}`,
        `--shards=${settings.shards}`,
        `--replicas=${settings.replicas}`,
        `--lease-ms=${settings.leaseMs}`,
        ...extra,
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          QUIVER_ADMIN_KEY: ADMIN_KEY,
          AWS_ACCESS_KEY_ID: settings.s3.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: settings.s3.credentials.secretAccessKey,
        },
      },
    );
    const node = new QuiverNode(id, `http://127.0.0.1:${port}`, child);
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`node ${id} did not start in 30 s: ${node.stderr}`)), 30_000);
      child.stdout?.on("data", (chunk) => {
        out += String(chunk);
        if (out.includes("serving at")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`node ${id} exited (${code}) before serving: ${node.stderr}`));
      });
    });
    return node;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get log(): string {
    return this.stderr;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first stderr line matching `pattern` (from the start of the process). */
  async waitForLog(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = pattern.exec(this.stderr);
      if (found) return found;
      if (!this.running) throw new Error(`node ${this.id} exited before logging ${pattern}: ${this.stderr}`);
      if (Date.now() > deadline)
        throw new Error(`node ${this.id} did not log ${pattern} in ${timeoutMs} ms: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * SIGKILL the moment stderr shows `pattern` (in the data handler, no timer between), waiting for the
   * exit; resolves with the match.
   */
  async killWhenLogged(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    const match = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.stderr?.off("data", onData);
        reject(new Error(`node ${this.id} did not log ${pattern} in ${timeoutMs} ms: ${this.stderr}`));
      }, timeoutMs);
      const onData = (): void => {
        const found = pattern.exec(this.stderr);
        if (!found) return;
        this.child.kill("SIGKILL");
        clearTimeout(timer);
        this.child.stderr?.off("data", onData);
        resolve(found);
      };
      this.child.stderr?.on("data", onData);
      onData();
    });
    await exited;
    return match;
  }

  /** SIGKILL (no goodbye: its leases expire) or SIGTERM (it leaves the cluster), waiting for the exit. */
  async stop(signal: "SIGKILL" | "SIGTERM" = "SIGTERM"): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill(signal);
    await exited;
  }

  /** A request with the admin key; JSON in and out, the status kept. */
  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : {} };
  }
}
