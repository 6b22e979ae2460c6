/**
 * Network namespaces for partition tests (iproute2, as root): one namespace per member, each joined
 * by a veth pair to a bridge in the test's own namespace, which holds the first address of a /24 in
 * 10/8 picked from the test's pid (so runs side by side do not collide). `cutOff(i)` isolates member i
 * from its peers with blackhole routes both ways (packets dropped, no reset: what a real partition
 * looks like to TCP) while the test's clients still reach it; `heal()` removes them. Namespaces and
 * the bridge are named after the pid, so `sweepStale` removes those a killed run left behind.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

async function ip(...args: string[]): Promise<string> {
  try {
    return (await run("ip", args)).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`ip ${args.join(" ")} failed: ${stderr.trim()} (network namespaces need root and iproute2)`);
  }
}

let created = 0;

export class MemberNetwork {
  private readonly cut = new Set<number>();

  private constructor(
    private readonly id: string,
    private readonly subnet: string,
    readonly size: number,
  ) {}

  /** The bridge, `size` namespaces with one veth each, addresses up; fails loudly when not permitted. */
  static async create(size: number): Promise<MemberNetwork> {
    await sweepStale();
    const id = `${process.pid}x${created++}`;
    const x = (process.pid * 8 + created) % 65_536;
    const routes = await ip("route", "show");
    let third = x & 255;
    let second = x >> 8;
    // Skip a /24 some other run (or the machine) already routes.
    while (routes.includes(`10.${second}.${third}.0/24`))
      [second, third] = third === 255 ? [(second + 1) & 255, 0] : [second, third + 1];
    const network = new MemberNetwork(id, `10.${second}.${third}`, size);
    try {
      await ip("link", "add", network.bridge, "type", "bridge");
      await ip("addr", "add", `${network.subnet}.1/24`, "dev", network.bridge);
      await ip("link", "set", network.bridge, "up");
      for (let i = 0; i < size; i++) {
        const ns = network.namespace(i);
        const host = `qv${id}h${i}`;
        await ip("netns", "add", ns);
        await ip("link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns);
        await ip("link", "set", host, "master", network.bridge);
        await ip("link", "set", host, "up");
        await ip("-n", ns, "addr", "add", `${network.address(i)}/24`, "dev", "eth0");
        await ip("-n", ns, "link", "set", "eth0", "up");
        await ip("-n", ns, "link", "set", "lo", "up");
      }
    } catch (error) {
      await network.destroy();
      throw error;
    }
    return network;
  }

  private get bridge(): string {
    return `qb${this.id}`;
  }

  namespace(i: number): string {
    return `quiver-${this.id}-${i}`;
  }

  address(i: number): string {
    return `${this.subnet}.${11 + i}`;
  }

  /** Blackhole routes between member i and every other member, both ways. */
  async cutOff(i: number): Promise<void> {
    for (let j = 0; j < this.size; j++) {
      if (j === i) continue;
      await ip("-n", this.namespace(i), "route", "add", "blackhole", `${this.address(j)}/32`);
      await ip("-n", this.namespace(j), "route", "add", "blackhole", `${this.address(i)}/32`);
    }
    this.cut.add(i);
  }

  /** Removes every blackhole route `cutOff` added. */
  async heal(): Promise<void> {
    for (const i of this.cut) {
      for (let j = 0; j < this.size; j++) {
        if (j === i) continue;
        await ip("-n", this.namespace(i), "route", "del", "blackhole", `${this.address(j)}/32`).catch(() => {});
        await ip("-n", this.namespace(j), "route", "del", "blackhole", `${this.address(i)}/32`).catch(() => {});
      }
    }
    this.cut.clear();
  }

  /** Deletes the namespaces (their veth ends go with them) and the bridge; safe to call twice. */
  async destroy(): Promise<void> {
    for (let i = 0; i < this.size; i++) await ip("netns", "del", this.namespace(i)).catch(() => {});
    await ip("link", "del", this.bridge).catch(() => {});
  }
}

/** Whether a process with this pid exists. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The harness's namespaces and bridges still on this machine, of runs alive or dead. */
export async function harnessNetworks(): Promise<{ namespaces: string[]; bridges: string[] }> {
  const namespaces = (await ip("netns", "list"))
    .split("\n")
    .map((line) => line.split(" ")[0])
    .filter((name) => /^quiver-\d+x\d+-\d+$/.test(name));
  const bridges = (await ip("-o", "link", "show", "type", "bridge"))
    .split("\n")
    .map((line) => line.match(/^\d+: (qb\d+x\d+)[:@]/)?.[1])
    .filter((name): name is string => name !== undefined);
  return { namespaces, bridges };
}

/**
 * Removes what runs that no longer exist left: a name's id is the creating pid and a counter
 * (`quiver-<pid>x<n>-<i>`, `qb<pid>x<n>`).
 */
export async function sweepStale(): Promise<void> {
  const { namespaces, bridges } = await harnessNetworks();
  const deadId = (id: string): boolean => !alive(Number(id.split("x")[0]));
  for (const ns of namespaces) if (deadId(ns.split("-")[1])) await ip("netns", "del", ns).catch(() => {});
  for (const bridge of bridges) if (deadId(bridge.slice(2))) await ip("link", "del", bridge).catch(() => {});
}
