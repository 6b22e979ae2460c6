/**
 * A 3-member etcd cluster for the fault tests, from /usr/bin/etcd (Debian's etcd-server): members on
 * loopback (free ports) or each in its own network namespace (`MemberNetwork`, to partition them),
 * data in temp folders. It waits for a leader, names it (the member a majority of members report as
 * leader), kills and restarts members on their data, cuts a member off and heals it. `stop()` ends
 * every member and removes data and namespaces; call it from `after` so a failing test leaves nothing.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ETCD_BINARY, freePort } from "../../support/cluster-services.js";
import { MemberNetwork, alive } from "./netns.js";
import { NodeProcess } from "./node-process.js";

export interface EtcdClusterMember {
  readonly index: number;
  readonly name: string;
  readonly endpoint: string;
  readonly dataDir: string;
  readonly process: NodeProcess;
}

export interface EtcdClusterOptions {
  /** Members (default 3). */
  size?: number;
  /** "loopback" (default): ports on 127.0.0.1; "namespaces": a namespace per member, partitionable. */
  network?: "loopback" | "namespaces";
}

/** Data roots are `<tmp>/quiver-etcd-cluster-<pid of the test>-<random>`: a dead pid marks leftovers. */
const DATA_PREFIX = "quiver-etcd-cluster-";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class EtcdCluster {
  private readonly ids = new Map<string, EtcdClusterMember>();

  private constructor(
    readonly members: EtcdClusterMember[],
    private readonly dataRoot: string,
    private readonly network: MemberNetwork | null,
  ) {}

  /** The temp folder holding every member's data. */
  get dataFolder(): string {
    return this.dataRoot;
  }

  /** The member's network namespace, when the cluster runs in namespaces. */
  namespaceOf(member: EtcdClusterMember): string | undefined {
    return this.network?.namespace(member.index);
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  /** Starts the members and resolves once they agree on a leader. */
  static async start(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    if (!existsSync(ETCD_BINARY))
      throw new Error(
        `${ETCD_BINARY} is missing: install Debian's etcd-server (.ci/run does) to run the cluster tests`,
      );
    const size = options.size ?? 3;
    const network = options.network === "namespaces" ? await MemberNetwork.create(size) : null;
    await sweepStaleMembers();
    const dataRoot = await mkdtemp(join(tmpdir(), `${DATA_PREFIX}${process.pid}-`));
    const hosts = await Promise.all(
      Array.from({ length: size }, async (_, i) =>
        network
          ? { address: network.address(i), client: 2379, peer: 2380 }
          : { address: "127.0.0.1", client: await freePort(), peer: await freePort() },
      ),
    );
    const peerUrl = (i: number) => `http://${hosts[i].address}:${hosts[i].peer}`;
    const initialCluster = hosts.map((_, i) => `m${i}=${peerUrl(i)}`).join(",");
    const token = randomUUID();
    const members = hosts.map((host, i): EtcdClusterMember => {
      const endpoint = `http://${host.address}:${host.client}`;
      const dataDir = join(dataRoot, `m${i}`);
      const args = [
        `--name=m${i}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${endpoint}`,
        `--advertise-client-urls=${endpoint}`,
        `--listen-peer-urls=${peerUrl(i)}`,
        `--initial-advertise-peer-urls=${peerUrl(i)}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-token=${token}`,
        "--initial-cluster-state=new",
        "--log-level=error",
      ];
      const member = new NodeProcess(`etcd m${i}`, {
        command: ETCD_BINARY,
        args,
        netns: network?.namespace(i),
      });
      return { index: i, name: `m${i}`, endpoint, dataDir, process: member };
    });
    const cluster = new EtcdCluster(members, dataRoot, network);
    try {
      for (const m of members) m.process.start();
      await cluster.leader(30_000);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The member's own id and the leader it reports ("0": none), or null when it does not answer. */
  private async status(member: EtcdClusterMember): Promise<{ id: string; leader: string } | null> {
    if (!member.process.running) return null;
    try {
      const res = await fetch(`${member.endpoint}/v3/maintenance/status`, {
        method: "POST",
        body: "{}",
        signal: AbortSignal.timeout(1000),
      });
      const body = (await res.json()) as { header?: { member_id?: string }; leader?: string };
      if (!body.header?.member_id || body.leader === undefined) return null;
      this.ids.set(body.header.member_id, member);
      return { id: body.header.member_id, leader: body.leader };
    } catch {
      return null;
    }
  }

  /**
   * The leader a majority of the members report (so a member cut off from its peers, still
   * believing it leads, is not named), waiting up to `timeoutMs` for one; `not` excludes a member
   * (to wait for the leader elected after it).
   */
  async leader(timeoutMs = 15_000, not?: EtcdClusterMember): Promise<EtcdClusterMember> {
    const deadline = Date.now() + timeoutMs;
    const majority = Math.floor(this.members.length / 2) + 1;
    let last = "";
    for (;;) {
      const statuses = await Promise.all(this.members.map((m) => this.status(m)));
      const votes = new Map<string, number>();
      for (const s of statuses) if (s && s.leader !== "0") votes.set(s.leader, (votes.get(s.leader) ?? 0) + 1);
      for (const [id, count] of votes) {
        const member = this.ids.get(id);
        if (count >= majority && member && member !== not) return member;
      }
      last = JSON.stringify(statuses);
      if (Date.now() > deadline) throw new Error(`etcd: no leader agreed by a majority in ${timeoutMs} ms: ${last}`);
      await sleep(100);
    }
  }

  /** kill -9 of a member. */
  kill(member: EtcdClusterMember): Promise<void> {
    return member.process.kill9();
  }

  /** Starts a killed member again on its data folder and waits until it answers. */
  async restart(member: EtcdClusterMember): Promise<void> {
    member.process.start();
    const deadline = Date.now() + 15_000;
    while ((await this.status(member)) === null) {
      if (Date.now() > deadline)
        throw new Error(`${member.name} did not answer after its restart: ${member.process.stderr}`);
      await sleep(100);
    }
  }

  /** Isolates a member from its peers (clients still reach it); needs `network: "namespaces"`. */
  cutOff(member: EtcdClusterMember): Promise<void> {
    if (!this.network) throw new Error("cutOff needs an EtcdCluster started with network: namespaces");
    return this.network.cutOff(member.index);
  }

  heal(): Promise<void> {
    return this.network?.heal() ?? Promise.resolve();
  }

  /** Ends every member and removes their data and namespaces (also after a failed start). */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.process.kill9()));
    await this.network?.destroy();
    await rm(this.dataRoot, { recursive: true, force: true });
  }
}

/** Pids of the etcd processes whose data folder lies under `dataRoot` (or under any harness root). */
export async function etcdProcessesUnder(dataRoot = join(tmpdir(), DATA_PREFIX)): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    const args = cmdline.split("\0");
    if (args[0] === ETCD_BINARY && args.some((a) => a.startsWith(`--data-dir=${dataRoot}`))) pids.push(Number(entry));
  }
  return pids;
}

/** kill -9 of members a test process that died (kill -9, so no teardown ran) left running, and their data. */
async function sweepStaleMembers(): Promise<void> {
  for (const pid of await etcdProcessesUnder()) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    const owner = Number(cmdline.match(new RegExp(`${DATA_PREFIX}(\\d+)-`))?.[1]);
    if (owner && !alive(owner)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
  for (const name of await readdir(tmpdir())) {
    const owner = Number(name.match(new RegExp(`^${DATA_PREFIX}(\\d+)-`))?.[1]);
    if (owner && !alive(owner)) await rm(join(tmpdir(), name), { recursive: true, force: true });
  }
}
