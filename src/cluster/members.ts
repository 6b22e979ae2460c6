/**
 * Cluster membership on the Catalog and Lease seams: a node describes itself under `nodes/<id>`
 * (address, roles) and proves it is alive by holding the lease `members/<id>`, renewed a few times
 * per lease period. A node whose process dies stops renewing, so it leaves the live set within one
 * lease period, with no one having to notice it.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { Catalog } from "./catalog.js";
import type { HeldLease, LeaseService } from "./lease.js";

export type Role = "writer" | "query" | "indexer";
export const ROLES: readonly Role[] = ["writer", "query", "indexer"];

export interface Member {
  id: string;
  /** Base URL other nodes reach it at, e.g. http://10.0.0.5:8390. */
  address: string;
  roles: Role[];
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export function checkNodeId(id: string): void {
  if (!NODE_ID.test(id))
    throw new QuiverError("INVALID_ARGUMENT", `node id ${JSON.stringify(id)} must be 1-63 of [A-Za-z0-9_-]`);
}

export class Membership {
  private lease: HeldLease | null = null;
  private live: Member[] = [];

  constructor(
    private readonly catalog: Catalog,
    private readonly leases: LeaseService,
    readonly self: Member,
    private readonly ttlMs: number,
  ) {
    checkNodeId(self.id);
  }

  /**
   * Writes this node's description and takes its membership lease. A node restarted within a lease
   * period of its own death waits for its old lease to expire (resolves false until then).
   */
  async join(): Promise<boolean> {
    const key = `nodes/${this.self.id}`;
    const value = JSON.stringify(this.self);
    for (;;) {
      const current = await this.catalog.get(key);
      if (current?.value === value || (await this.catalog.put(key, value, current?.version ?? 0))) break;
    }
    this.lease = await this.leases.acquire(`members/${this.self.id}`, this.self.id, this.ttlMs);
    return this.lease !== null;
  }

  /** Keeps the membership lease alive; joins again (a new lease) when it had expired. */
  async heartbeat(): Promise<void> {
    if (this.lease === null) {
      await this.join();
      return;
    }
    try {
      await this.lease.renew();
    } catch {
      this.lease = null;
      await this.join();
    }
  }

  get joined(): boolean {
    return this.lease !== null;
  }

  /** Reads the live members (described and holding their lease), in id order. */
  async refresh(): Promise<Member[]> {
    const described = await this.catalog.list("nodes/");
    const owners = await Promise.all(
      described.map(async (entry) => {
        const member = JSON.parse(entry.value) as Member;
        return (await this.leases.owner(`members/${member.id}`))?.holder === member.id ? member : null;
      }),
    );
    this.live = owners.filter((m): m is Member => m !== null);
    return this.live;
  }

  /** The live members as of the last refresh, optionally only those with `role`. */
  members(role?: Role): Member[] {
    return role === undefined ? this.live : this.live.filter((m) => m.roles.includes(role));
  }

  /** Leaves the cluster now (the lease is revoked), so others need not wait for it to expire. */
  async leave(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    await lease?.release().catch(() => {});
  }
}
