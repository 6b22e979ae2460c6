/**
 * The services the cluster tests run against, each started on loopback by the test and stopped by
 * it: an etcd member from /usr/bin/etcd (random free ports, data in a temp folder; killable and
 * restartable on the same ports and data) and s3rver in process (stoppable and restartable on the
 * same port and files). A missing etcd binary fails loudly: CI installs it (.ci/run).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";

export const ETCD_BINARY = "/usr/bin/etcd";

/** A port that was free a moment ago (bound to 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class EtcdMember {
  private child: ChildProcess | null = null;
  private constructor(
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  /** Starts a single-member cluster and waits until it answers. */
  static async start(): Promise<EtcdMember> {
    if (!existsSync(ETCD_BINARY))
      throw new Error(
        `${ETCD_BINARY} is missing: install Debian's etcd-server (.ci/run does) to run the cluster tests`,
      );
    const member = new EtcdMember(await mkdtemp(join(tmpdir(), "quiver-etcd-")), await freePort(), await freePort());
    await member.restart();
    return member;
  }

  /** (Re)starts the member on its ports and data folder, resolving once it serves requests. */
  async restart(): Promise<void> {
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.child = spawn(
      ETCD_BINARY,
      [
        "--name=quiver-test",
        `--data-dir=${this.dataDir}`,
        `--listen-client-urls=${this.endpoint}`,
        `--advertise-client-urls=${this.endpoint}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=quiver-test=${peer}`,
        "--log-level=error",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    this.child.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`etcd exited (${this.child.exitCode}): ${stderr}`);
      try {
        const res = await fetch(`${this.endpoint}/health`);
        if (res.ok && ((await res.json()) as { health?: string }).health === "true") return;
      } catch {}
      if (Date.now() > deadline) throw new Error(`etcd did not become healthy in 15 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** kill -9, waiting until the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: { closeAllConnections(): void };
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

/** s3rver (an S3 stand-in: no conditional PUT, which Quiver does not use) with one bucket. */
export class S3Stand {
  private server: S3rverInstance | null = null;
  readonly bucket = "quiver-test";
  readonly credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  private constructor(
    readonly directory: string,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<S3Stand> {
    const stand = new S3Stand(await mkdtemp(join(tmpdir(), "quiver-s3-")), await freePort());
    await stand.restart();
    return stand;
  }

  /** (Re)starts on the same port and files. */
  async restart(): Promise<void> {
    const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;
    this.server = new S3rver({
      address: "127.0.0.1",
      port: this.port,
      silent: true,
      directory: this.directory,
      configureBuckets: [{ name: this.bucket }],
    });
    await this.server.run();
  }

  /** Stops answering: the port is closed and open connections are cut. */
  async halt(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.httpServer?.closeAllConnections();
    await server.close();
  }

  async stop(): Promise<void> {
    await this.halt();
    await rm(this.directory, { recursive: true, force: true });
  }
}

/**
 * One etcd member and one s3rver for a test file: started before its tests, stopped after them. The
 * fields are set once `before` has run, so read them inside tests.
 */
export function useEtcdAndS3(): { etcd: EtcdMember; s3: S3Stand } {
  const services = {} as { etcd: EtcdMember; s3: S3Stand };
  before(async () => {
    [services.etcd, services.s3] = await Promise.all([EtcdMember.start(), S3Stand.start()]);
  });
  after(async () => {
    await Promise.all([services.etcd?.stop(), services.s3?.stop()]);
  });
  return services;
}
