/**
 * A request's time budget, checked at safe points of long read loops (chunks of an exact scan,
 * rounds of a graph search, posting lists, filter and scroll loops). Pure: the clock is a function
 * passed in, so the core keeps no timers and tests can drive time.
 */
import { QuiverError } from "../errors/errors.js";

/** Loop iterations between clock reads in per-record loops: a read costs ~50 ns, a record ~50-500. */
export const DEADLINE_STRIDE = 1024;

export class Deadline {
  private constructor(
    /** The clock reading after which `check` throws. */
    readonly expiresAt: number,
    private readonly budgetMs: number,
    private readonly now: () => number,
  ) {}

  /** A deadline `budgetMs` from now on `now`'s clock (milliseconds). */
  static after(budgetMs: number, now: () => number): Deadline {
    return new Deadline(now() + budgetMs, budgetMs, now);
  }

  /** Never expires: what a call without a deadline runs with. */
  static readonly NONE: Deadline = new Deadline(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, () => 0);

  /** Milliseconds left (negative once expired). */
  remaining(): number {
    return this.expiresAt - this.now();
  }

  /**
   * Throws TIMEOUT once the budget is spent. Call only where stopping loses nothing: before a
   * write is logged, never after (a logged write is applied whatever the clock says).
   */
  check(): void {
    if (this.expiresAt !== Number.POSITIVE_INFINITY && this.now() > this.expiresAt) {
      throw new QuiverError(
        "TIMEOUT",
        `the request ran past its time limit of ${this.budgetMs} ms; narrow it (a filter, a smaller limit or ef) or raise the limit`,
      );
    }
  }
}
