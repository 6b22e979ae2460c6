// A bounded min-heap that keeps the k best (score, slot) pairs seen so far, for exact and graph search.
// Ties on score go to the lower slot, so results are deterministic whatever order slots are visited in.

/**
 * @example
 * const top = new TopK(10);
 * for (let s = 0; s < n; s++) if (scores[s] >= top.threshold) top.push(scores[s], s);
 * const { slots, scores } = top.drain();   // best first
 */
export class TopK {
  readonly k: number;
  private readonly scores: Float64Array;
  private readonly slots: Uint32Array;
  private n = 0;

  constructor(k: number) {
    this.k = Math.max(0, Math.floor(k));
    this.scores = new Float64Array(this.k);
    this.slots = new Uint32Array(this.k);
  }

  get size(): number {
    return this.n;
  }

  /**
   * The lowest score that can still enter (−Infinity until full). A caller may skip push() for scores
   * below it; equal scores must still be pushed because a lower slot wins the tie.
   */
  get threshold(): number {
    return this.n < this.k ? -Infinity : this.scores[0];
  }

  /** Offers a pair; returns whether it was kept. NaN scores are never kept. */
  push(score: number, slot: number): boolean {
    if (this.k === 0 || Number.isNaN(score)) return false;
    if (this.n < this.k) {
      this.siftUp(this.n++, score, slot);
      return true;
    }
    if (!worse(this.scores[0], this.slots[0], score, slot)) return false;
    this.siftDown(score, slot);
    return true;
  }

  /** Returns the kept pairs, best first, and empties the heap. */
  drain(): { slots: number[]; scores: number[] } {
    const count = this.n;
    const slots = new Array<number>(count);
    const scores = new Array<number>(count);
    // Popping the worst repeatedly fills the output from the back.
    for (let i = count - 1; i >= 0; i--) {
      slots[i] = this.slots[0];
      scores[i] = this.scores[0];
      this.n--;
      if (this.n > 0) this.siftDown(this.scores[this.n], this.slots[this.n]);
    }
    return { slots, scores };
  }

  private siftUp(i: number, score: number, slot: number): void {
    const sc = this.scores;
    const sl = this.slots;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(score, slot, sc[p], sl[p])) break;
      sc[i] = sc[p];
      sl[i] = sl[p];
      i = p;
    }
    sc[i] = score;
    sl[i] = slot;
  }

  /** Replaces the root with (score, slot) and restores the heap over the first `n` entries. */
  private siftDown(score: number, slot: number): void {
    const sc = this.scores;
    const sl = this.slots;
    const n = this.n;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && worse(sc[c + 1], sl[c + 1], sc[c], sl[c])) c++;
      if (!worse(sc[c], sl[c], score, slot)) break;
      sc[i] = sc[c];
      sl[i] = sl[c];
      i = c;
    }
    sc[i] = score;
    sl[i] = slot;
  }
}

/** True when (sa, la) ranks below (sb, lb): a lower score, or the same score with a higher slot. */
function worse(sa: number, la: number, sb: number, lb: number): boolean {
  return sa < sb || (sa === sb && la > lb);
}
