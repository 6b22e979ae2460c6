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

/** How a holder keeps a lease: its time to live and how often it renews it (default a third of it). */
export interface LeaseTimings {
  ttlMs: number;
  renewEveryMs?: number;
}

export interface KeptLease {
  /** True once no renewal was confirmed for a whole ttl: the lease has surely expired. */
  lost(): boolean;
  stop(): void;
}

/**
 * Renews `lease` on a timer of its own, so a long job keeps it as long as its event loop turns (the job
 * must yield now and then: a timer cannot fire inside a synchronous stretch). One renewal in flight at a
 * time; a failed one is retried at the next tick, and only a ttl without any success counts as lost.
 */
export function keepLease(lease: HeldLease, timings: LeaseTimings, now: () => number = Date.now): KeptLease {
  let confirmed = now();
  let inFlight = false;
  const timer = setInterval(
    () => {
      if (inFlight) return;
      inFlight = true;
      const sent = now();
      lease
        .renew()
        .then(
          () => {
            confirmed = Math.max(confirmed, sent);
          },
          () => {},
        )
        .finally(() => {
          inFlight = false;
        });
    },
    timings.renewEveryMs ?? timings.ttlMs / 3,
  );
  return { lost: () => now() - confirmed >= timings.ttlMs, stop: () => clearInterval(timer) };
}
