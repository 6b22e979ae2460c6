// Binary min-heaps of (score f32, slot u32) pairs in linear memory, 8 bytes per entry; the root is the
// worst pair. A max-heap (the candidate queue) stores negated scores. Ties go to the lower slot.

@inline
function worse(sa: f32, la: u32, sb: f32, lb: u32): bool {
  return sa < sb || (sa == sb && la > lb);
}

/** Pushes (s, v) onto the heap of n entries at base; returns the new size. */
export function heapPush(base: usize, n: i32, s: f32, v: u32): i32 {
  let i = n;
  while (i > 0) {
    const p = (i - 1) >> 1;
    const pp = base + (<usize>p << 3);
    const ps = load<f32>(pp);
    const pv = load<u32>(pp, 4);
    if (!worse(s, v, ps, pv)) break;
    const ip = base + (<usize>i << 3);
    store<f32>(ip, ps);
    store<u32>(ip, pv, 4);
    i = p;
  }
  const ip = base + (<usize>i << 3);
  store<f32>(ip, s);
  store<u32>(ip, v, 4);
  return n + 1;
}

/** Removes the root of the heap of n entries; returns the new size. */
export function heapPop(base: usize, n: i32): i32 {
  n--;
  if (n <= 0) return 0;
  const lp = base + (<usize>n << 3);
  siftDown(base, n, 0, load<f32>(lp), load<u32>(lp, 4));
  return n;
}

/** Replaces the root with (s, v) and restores order over n entries. */
export function heapReplaceTop(base: usize, n: i32, s: f32, v: u32): void {
  siftDown(base, n, 0, s, v);
}

function siftDown(base: usize, n: i32, i: i32, s: f32, v: u32): void {
  for (;;) {
    let c = 2 * i + 1;
    if (c >= n) break;
    let cp = base + (<usize>c << 3);
    let cs = load<f32>(cp);
    let cv = load<u32>(cp, 4);
    if (c + 1 < n) {
      const dp = cp + 8;
      const ds = load<f32>(dp);
      const dv = load<u32>(dp, 4);
      if (worse(ds, dv, cs, cv)) {
        c++;
        cp = dp;
        cs = ds;
        cv = dv;
      }
    }
    if (!worse(cs, cv, s, v)) break;
    const ip = base + (<usize>i << 3);
    store<f32>(ip, cs);
    store<u32>(ip, cv, 4);
    i = c;
  }
  const ip = base + (<usize>i << 3);
  store<f32>(ip, s);
  store<u32>(ip, v, 4);
}

/** Sorts n pairs in place, best (highest score, then lowest slot) first: heapsort, no extra memory. */
export function sortBestFirst(base: usize, n: i32): void {
  // Heapify as a min-heap, then move the root (the worst) to the end repeatedly.
  for (let i = (n >> 1) - 1; i >= 0; i--) {
    const p = base + (<usize>i << 3);
    siftDown(base, n, i, load<f32>(p), load<u32>(p, 4));
  }
  for (let end = n - 1; end > 0; end--) {
    const s = load<f32>(base);
    const v = load<u32>(base, 4);
    const ep = base + (<usize>end << 3);
    siftDown(base, end, 0, load<f32>(ep), load<u32>(ep, 4));
    store<f32>(ep, s);
    store<u32>(ep, v, 4);
  }
}

/**
 * Reverses each run of equal scores in a list sorted by sortBestFirst, so that among ties the highest
 * (most recently inserted) slot comes first. Used when choosing links: with many identical vectors every
 * candidate ties, and preferring the lowest slots would keep re-linking the first few nodes while no
 * list ever points at a newer one, leaving all but m0 + 1 of them unreachable.
 */
export function newestFirstAmongTies(base: usize, n: i32): void {
  let i = 0;
  while (i < n) {
    const s = load<f32>(base + (<usize>i << 3));
    let j = i + 1;
    while (j < n && load<f32>(base + (<usize>j << 3)) == s) j++;
    for (let a = i, b = j - 1; a < b; a++, b--) {
      const pa = base + (<usize>a << 3);
      const pb = base + (<usize>b << 3);
      const va = load<u32>(pa, 4);
      store<u32>(pa, load<u32>(pb, 4), 4);
      store<u32>(pb, va, 4);
    }
    i = j;
  }
}
