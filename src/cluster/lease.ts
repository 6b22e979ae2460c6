/**
 * The Lease seam: exclusive, expiring ownership of a name (a shard's writer role), with an epoch that
 * is bumped in the same atomic step that takes it. The epoch, not the lease, is what fences: a holder
 * paused past its lease still believes it owns the name, and only the epoch compared by every
 * CommitLog.append stops its late commits. Implementations: LocalCoordinator, EtcdCoordinator.
 */

export interface HeldLease {
  readonly name: string;
  readonly holder: string;
  /** The fencing token: strictly greater than every earlier holder's. */
  readonly epoch: number;
  /**
   * Extends the lease by its time to live. Rejects with UNAVAILABLE when the lease has expired
   * (the holder must stop and acquire again, getting a new epoch) or the service cannot be reached.
   */
  renew(): Promise<void>;
  /** Gives the name up now, so another holder need not wait for the expiry. */
  release(): Promise<void>;
}

export interface LeaseOwner {
  holder: string;
  epoch: number;
}

export interface LeaseService {
  /**
   * Takes `name` for `holder` for `ttlMs` (rounded up to whole seconds by etcd) when no live lease
   * holds it, bumping its epoch; null when another holder's lease is live.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<HeldLease | null>;
  /** The live holder of `name` and its epoch, or null when nobody holds it. */
  owner(name: string): Promise<LeaseOwner | null>;
}
