// The HNSW graph's hot loops in WebAssembly (AssemblyScript), over the vector slab's memory: greedy
// descent of the upper layers, beam search of a layer with epoch-tagged visited marks, the neighbour
// selection heuristic, insertion, filtered search (plain or ACORN-style two-hop), local repair around a
// deleted or replaced node (unlink) and the whole-graph consolidate pass.
// All state lives in linear memory described by a header (see src/core/kernels/boundary.json and state.ts);
// the module keeps nothing between calls but cached offsets, so one compiled module serves every index.

import { dotImpl, l2sqImpl } from "../distance";
import { heapPush, heapPop, heapReplaceTop, newestFirstAmongTies, sortBestFirst } from "./heap";
import { dotI8, andCount, encode, encodeNode } from "./quant";
import {
  bind, bindWriter, bindLane, clearPadTail, unbind, unbindLane, setLocking, lockNode, unlockNode, lockEntry, unlockEntry, storeCount, hdrI, setHdrI, linksAt, nodeAt, vecAt, flagOf, levelOf, newEpoch, testAndVisit, bitOf,
  gMode, setMode, gMetric, gDim, gM, gM0, gCand, gRes, gWork, gSel, gQuery, gQcodes, gFlags, gLevels, gUpIdx,
  gCodeOff, gCorrOff, gCodeRead, gCodeBytes, gFactor, gDisk, gPad, gVecStride,
  MODE_F32_DOT, MODE_F32_L2, MODE_I8, MODE_BIN,
} from "./state";
import {
  H_QUANT, H_QREADY, H_ENTRY, H_MAXLEVEL, H_POOLUSED, H_COUNT, H_CAP, H_EFC, H_TOMBS, H_VISITS, L_VISITS,
  FLAG_LIVE, FLAG_TOMB, FLAG_ABSENT, QUANT_INT8, QUANT_NONE, METRIC_L2,
  FILTER_NONE, FILTER_ACORN,
} from "../boundary.generated";

let gEpScore: f32 = 0;
let visits: i32 = 0;

/** Score (higher = closer) of the query at q against slot v in the current distance mode. */
@inline
function score(q: usize, v: u32): f32 {
  visits++;
  const mode = gMode;
  if (mode == MODE_F32_DOT) return dotImpl(q, vecAt(v), gDim);
  if (mode == MODE_F32_L2) return -l2sqImpl(q, vecAt(v), gDim);
  const node = nodeAt(v);
  const prod = mode == MODE_I8 ? dotI8(q, node + gCodeOff, gCodeRead) : andCount(q, node + gCodeOff, gCodeRead);
  return load<f32>(node + gCorrOff) + gFactor * <f32>prod;
}

/**
 * Score between two stored vectors for construction and repair: exact f32 when the vectors are in
 * memory; with originals on disk, the symmetric code estimate (pairCodes).
 */
@inline
function pairScore(a: u32, b: u32): f32 {
  if (gDisk) return pairCodes(a, b);
  return gMetric == METRIC_L2 ? -l2sqImpl(vecAt(a), vecAt(b), gDim) : dotImpl(vecAt(a), vecAt(b), gDim);
}

/**
 * corr(a) + corr(b) + factor · codes product: the quantized score of a against b with the terms that
 * depend on "the query" a included, so that it compares with scores against any other node (see
 * quant.ts; only the constant d·offset² of int8 dot is left out, the same for every pair). a's codes
 * are copied to the zero-padded pad, since the loops read whole blocks and b's tail is another record.
 */
function pairCodes(a: u32, b: u32): f32 {
  const na = nodeAt(a);
  const nb = nodeAt(b);
  memory.copy(gPad, na + gCodeOff, <usize>gCodeBytes);
  const prod = hdrI(H_QUANT) == QUANT_INT8 ? dotI8(gPad, nb + gCodeOff, gCodeRead) : andCount(gPad, nb + gCodeOff, gCodeRead);
  return load<f32>(na + gCorrOff) + load<f32>(nb + gCorrOff) + gFactor * <f32>prod;
}

@inline
function f32Mode(): i32 {
  return gMetric == METRIC_L2 ? MODE_F32_L2 : MODE_F32_DOT;
}

@inline
function accept(v: u32, fmode: i32): bool {
  return flagOf(v) == FLAG_LIVE && (fmode == FILTER_NONE || bitOf(v));
}

/**
 * Loads one word of every cache line that scoring slot will read (its codes, or its f32 vector), so that
 * a loop of touches over a batch of slots starts all their memory fetches at once. WebAssembly has no
 * prefetch instruction; this is the stand-in. The sum goes to gSink only so the loads are not optimised away.
 */
@inline
function touch(v: u32): u32 {
  let p: usize;
  let end: usize;
  if (gMode >= MODE_I8) {
    p = nodeAt(v) + gCodeOff;
    end = p + <usize>gCodeRead;
  } else {
    p = vecAt(v);
    end = p + gVecStride;
  }
  let t: u32 = 0;
  for (p &= ~63; p < end; p += 64) t += load<u32>(p);
  return t;
}

let gSink: u32 = 0;

/** Greedy descent on one upper layer from ep (score in gEpScore); returns the local optimum. */
function greedy(q: usize, ep: u32, layer: i32): u32 {
  let best = ep;
  let bs = gEpScore;
  let changed = true;
  while (changed) {
    changed = false;
    const l = linksAt(best, layer);
    const n = load<u32>(l);
    let sink: u32 = 0;
    for (let i: u32 = 0; i < n; i++) sink += touch(load<u32>(l + 4 + (<usize>i << 2)));
    gSink = sink;
    for (let i: u32 = 0; i < n; i++) {
      const v = load<u32>(l + 4 + (<usize>i << 2));
      const s = score(q, v);
      if (s > bs) {
        bs = s;
        best = v;
        changed = true;
      }
    }
  }
  gEpScore = bs;
  return best;
}

/**
 * Beam search of one layer from ep with a result list of ef; leaves the results as a min-heap at gRes
 * and returns their number. The candidate queue (gCand) is a max-heap stored with negated scores.
 * Each expanded node is handled in passes over a batch of (score, slot) pairs at gWork (free during the
 * search): collect the slots to score (unvisited neighbours, or for ACORN the matching ones and those one
 * hop through a non-match), touch their cache lines, score them, then offer them to the heaps. The
 * touches put all the batch's misses in flight at once; scoring the slots one by one between heap
 * operations (whose branches mispredict) waited for each miss in turn, the largest cost of a query.
 */
function searchLayer(q: usize, ep: u32, ef: i32, layer: i32, fmode: i32): i32 {
  newEpoch();
  let nc = 0;
  let nr = 0;
  testAndVisit(ep);
  const s0 = score(q, ep);
  nc = heapPush(gCand, nc, -s0, ep);
  if (accept(ep, fmode)) nr = heapPush(gRes, nr, s0, ep);
  let lower: f32 = nr > 0 ? load<f32>(gRes) : -Infinity;
  const batch = gWork;
  let sink: u32 = 0;
  while (nc > 0) {
    const cs = -load<f32>(gCand);
    if (nr >= ef && cs < lower) break;
    const c = load<u32>(gCand, 4);
    nc = heapPop(gCand, nc);
    const l = linksAt(c, layer);
    const n = load<u32>(l);
    let m: usize = 0;
    for (let i: u32 = 0; i < n; i++) {
      const v = load<u32>(l + 4 + (<usize>i << 2));
      if (testAndVisit(v)) continue;
      if (fmode == FILTER_ACORN && !bitOf(v)) {
        // The neighbour fails the filter: look through it at its own neighbours that pass.
        const l2 = linksAt(v, layer);
        const n2 = load<u32>(l2);
        for (let j: u32 = 0; j < n2; j++) {
          const w = load<u32>(l2 + 4 + (<usize>j << 2));
          if (!bitOf(w) || testAndVisit(w)) continue;
          store<u32>(batch + (m << 3), w, 4);
          m++;
        }
        continue;
      }
      store<u32>(batch + (m << 3), v, 4);
      m++;
    }
    const end = batch + (m << 3);
    for (let p = batch; p < end; p += 8) sink += touch(load<u32>(p, 4));
    for (let p = batch; p < end; p += 8) store<f32>(p, score(q, load<u32>(p, 4)));
    for (let p = batch; p < end; p += 8) {
      const s = load<f32>(p);
      if (nr < ef || s > lower) {
        const v = load<u32>(p, 4);
        nc = heapPush(gCand, nc, -s, v);
        if (accept(v, fmode)) {
          if (nr < ef) nr = heapPush(gRes, nr, s, v);
          else heapReplaceTop(gRes, nr, s, v);
          lower = load<f32>(gRes);
        }
      }
    }
  }
  gSink = sink;
  return nr;
}

/**
 * The neighbour selection heuristic of HNSW: walking the candidates best first (pairs at list), keep
 * one only if it is closer to the base than to every neighbour kept so far. Writes gSel; returns the count.
 */
function selectHeuristic(list: usize, n: i32, mmax: i32): i32 {
  let m = 0;
  for (let i = 0; i < n && m < mmax; i++) {
    const p = list + (<usize>i << 3);
    const s = load<f32>(p);
    const c = load<u32>(p, 4);
    let good = true;
    for (let j = 0; j < m; j++) {
      if (pairScore(c, load<u32>(gSel + (<usize>j << 2))) > s) {
        good = false;
        break;
      }
    }
    if (good) {
      store<u32>(gSel + (<usize>m << 2), c);
      m++;
    }
  }
  return m;
}

/** Writes gSel's m slots as the list at links: the slots first, then the count (see storeCount). */
function writeSel(links: usize, m: i32): void {
  memory.copy(links + 4, gSel, <usize>m << 2);
  storeCount(links, m);
}

/**
 * Links slot at layer to the heuristic's choice among the n sorted candidates at gWork, both ways.
 * Each list is written under its slot's lock (a no-op outside link()); slot's own list is read back
 * unlocked, since no other thread links to a slot before it is LIVE.
 */
function connect(slot: u32, layer: i32, n: i32): void {
  const mmax = layer == 0 ? gM0 : gM;
  const own = linksAt(slot, layer);
  const chosen = selectHeuristic(gWork, n, gM);
  lockNode(slot);
  writeSel(own, chosen);
  unlockNode(slot);
  const m = load<u32>(own);
  for (let j: u32 = 0; j < m; j++) {
    const e = load<u32>(own + 4 + (<usize>j << 2));
    const le = linksAt(e, layer);
    lockNode(e);
    const cnt = load<u32>(le);
    if (<i32>cnt < mmax) {
      store<u32>(le + 4 + (<usize>cnt << 2), slot);
      storeCount(le, cnt + 1);
      unlockNode(e);
      continue;
    }
    // Full: re-select among the old neighbours plus the new one (gRes is free at this point).
    let k = heapPushPlain(gRes, 0, pairScore(e, slot), slot);
    for (let i: u32 = 0; i < cnt; i++) {
      const x = load<u32>(le + 4 + (<usize>i << 2));
      k = heapPushPlain(gRes, k, pairScore(e, x), x);
    }
    sortBestFirst(gRes, k);
    newestFirstAmongTies(gRes, k);
    writeSel(le, selectHeuristic(gRes, k, mmax));
    unlockNode(e);
  }
}

@inline
function heapPushPlain(base: usize, n: i32, s: f32, v: u32): i32 {
  const p = base + (<usize>n << 3);
  store<f32>(p, s);
  store<u32>(p, v, 4);
  return n + 1;
}

/**
 * Inserts slot (its vector already in the slab) with the given level; upper blocks must fit the pool.
 * With originals on disk the caller copies the slot's f32 row to gQuery first (only its codes are
 * kept), the quantizer must be trained, and the neighbours are found and chosen on codes.
 * The one-thread form of stage() then link().
 */
export function insert(hdr: usize, slot: u32, level: i32): void {
  bindWriter(hdr);
  setLocking(false);
  const top = stageBound(slot, level);
  if (top >= 0) linkBound(slot, top);
  unbind();
}

/**
 * The serial half of an insert, done by the writer for every slot of a parallel build before any is
 * linked: the slot's level, its pool block, its lists emptied, its codes, counted, flagged ABSENT (not
 * found as a neighbour until linked). Returns the level to link it at, or -1 when it became the entry
 * point of an empty graph (nothing to link).
 */
export function stage(hdr: usize, slot: u32, level: i32): i32 {
  bindWriter(hdr);
  const top = stageBound(slot, level);
  unbind();
  return top;
}

/**
 * The parallel half: finds slot's neighbours from the entry point and links it both ways, then flags
 * it LIVE. Several threads link different staged slots of one graph at once, each with its own
 * scratch (`lane`, or the header's when 0: the writer's thread), every list written under its slot's
 * lock (H_LOCKS) and the entry point under H_GLOCK, as hnswlib's addPoint does. Lists are read
 * without locks: a list's slots are written before its count (storeCount), and every slot an
 * unwritten position may hold is valid (stageBound fills fresh lists with the slot itself), so a
 * reader sees an old or a new neighbour, never a wild one. With originals on disk each lane compares
 * codes in its own pad (L_PAD; the writer's thread in the header's).
 */
export function link(hdr: usize, lane: usize, slot: u32, level: i32): void {
  bind(hdr);
  if (lane != 0) bindLane(lane);
  clearPadTail();
  setLocking(true);
  linkBound(slot, level);
  if (lane != 0) unbindLane(lane);
  else unbind();
}

function stageBound(slot: u32, level: i32): i32 {
  const quant = hdrI(H_QUANT);
  const oldLevel = levelOf(slot);
  if (flagOf(slot) == FLAG_TOMB) {
    // Reusing a tombstone (unlink()ed, not yet consolidated): lists elsewhere may still link to it at
    // any of its old layers, so it keeps at least its old level and every such link stays valid (as
    // hnswlib's updatePoint keeps the element's level).
    if (oldLevel > level) level = oldLevel;
    setHdrI(H_TOMBS, hdrI(H_TOMBS) - 1);
    // Its lists are cleared below: the search for its neighbours must not start from it.
    if (hdrI(H_ENTRY) == <i32>slot) moveEntry(slot);
  }
  const upp = gUpIdx + (<usize>slot << 2);
  if (level > 0 && !(load<u32>(upp) != 0 && oldLevel >= level)) {
    const used = hdrI(H_POOLUSED);
    store<u32>(upp, <u32>used + 1);
    setHdrI(H_POOLUSED, used + level);
  }
  store<u8>(gLevels + <usize>slot, <u8>level);
  for (let l = 0; l <= level; l++) clearList(linksAt(slot, l), l == 0 ? gM0 : gM, slot);
  if (quant != QUANT_NONE && hdrI(H_QREADY) != 0) encodeNode(quant, nodeAt(slot), gDisk ? gQuery : vecAt(slot));
  setHdrI(H_COUNT, hdrI(H_COUNT) + 1);
  if (hdrI(H_ENTRY) < 0) {
    store<u8>(gFlags + <usize>slot, FLAG_LIVE);
    setHdrI(H_ENTRY, <i32>slot);
    setHdrI(H_MAXLEVEL, level);
    return -1;
  }
  // Not live until linked: a reused slot is still reachable through links left to its tombstone, and
  // its own search must not find it (a self-link that the heuristic would then prune others against).
  store<u8>(gFlags + <usize>slot, FLAG_ABSENT);
  return level;
}

/**
 * An empty list whose unused positions hold the slot itself: a lock-free reader of a list being
 * written (link) that reads a position past what was written meets the slot it is expanding, which
 * it has visited, never an arbitrary number (see link).
 */
function clearList(list: usize, mmax: i32, slot: u32): void {
  store<u32>(list, 0);
  for (let i = 0; i < mmax; i++) store<u32>(list + 4 + (<usize>i << 2), slot);
}

function linkBound(slot: u32, level: i32): void {
  setMode(f32Mode());
  visits = 0;
  const quant = hdrI(H_QUANT);
  lockEntry();
  const entry = hdrI(H_ENTRY);
  const maxL = hdrI(H_MAXLEVEL);
  // A slot above the top level becomes the entry point: it keeps the lock until it does, so that no
  // other such slot links below a top that is about to change (hnswlib holds its global lock alike).
  const above = level > maxL;
  if (!above) unlockEntry();
  const efc = hdrI(H_EFC);
  let q = vecAt(slot);
  let selfCorr: f32 = 0;
  if (gDisk) {
    // The slot's own codes, zero-padded, are the query; its correction makes the list's scores
    // comparable with pairCodes in the selection heuristic.
    q = gQcodes;
    memory.fill(q, 0, <usize>gCodeRead);
    memory.copy(q, nodeAt(slot) + gCodeOff, <usize>gCodeBytes);
    selfCorr = load<f32>(nodeAt(slot) + gCorrOff);
    setMode(quant == QUANT_INT8 ? MODE_I8 : MODE_BIN);
  }
  let ep = <u32>entry;
  gEpScore = score(q, ep);
  for (let l = maxL; l > level; l--) ep = greedy(q, ep, l);
  for (let l = min(level, maxL); l >= 0; l--) {
    const nr = searchLayer(q, ep, efc, l, FILTER_NONE);
    memory.copy(gWork, gRes, <usize>nr << 3);
    if (gDisk) for (let i = 0; i < nr; i++) store<f32>(gWork + (<usize>i << 3), load<f32>(gWork + (<usize>i << 3)) + selfCorr);
    sortBestFirst(gWork, nr);
    newestFirstAmongTies(gWork, nr);
    if (nr > 0) ep = load<u32>(gWork, 4);
    connect(slot, l, nr);
  }
  store<u8>(gFlags + <usize>slot, FLAG_LIVE);
  if (above) {
    setHdrI(H_ENTRY, <i32>slot);
    setHdrI(H_MAXLEVEL, level);
    unlockEntry();
  }
}

/**
 * Searches for the query at gQuery (f32, already normalised for cosine). fmode: FILTER_NONE, FILTER_PLAIN
 * or FILTER_ACORN, both over the bitmap at gBitmap. With quantized codes the traversal compares codes and
 * the ef survivors are re-scored in f32 (with originals on disk, the caller re-scores them: they come
 * back in code order). Writes the results best first as (score, slot) pairs at gWork and returns their
 * number (up to max(ef, k)).
 */
export function search(hdr: usize, k: i32, ef: i32, fmode: i32): i32 {
  bind(hdr);
  const nr = searchBound(k, ef, fmode);
  unbind();
  setHdrI(H_VISITS, visits);
  return nr;
}

/**
 * search() with the scratch of a lane (see bindLane): what a reader thread runs, concurrently with
 * other lanes over the same graph. Reads the header, writes only the lane (results at its WORK).
 */
export function searchLane(hdr: usize, lane: usize, k: i32, ef: i32, fmode: i32): i32 {
  bind(hdr);
  bindLane(lane);
  const nr = searchBound(k, ef, fmode);
  unbindLane(lane);
  store<i32>(lane + (<usize>L_VISITS << 2), visits);
  return nr;
}

/** The body of search() over the bound scratch. */
function searchBound(k: i32, ef: i32, fmode: i32): i32 {
  visits = 0;
  const entry = hdrI(H_ENTRY);
  if (entry < 0) return 0;
  const quant = hdrI(H_QUANT);
  const useCodes = quant != QUANT_NONE && hdrI(H_QREADY) != 0;
  let q = gQuery;
  if (useCodes) {
    encode(quant, gQuery, gQcodes, gCodeRead);
    q = gQcodes;
    setMode(quant == QUANT_INT8 ? MODE_I8 : MODE_BIN);
  } else {
    setMode(f32Mode());
  }
  let ep = <u32>entry;
  gEpScore = score(q, ep);
  for (let l = hdrI(H_MAXLEVEL); l > 0; l--) ep = greedy(q, ep, l);
  const nr = searchLayer(q, ep, max(ef, k), 0, fmode);
  if (useCodes && !gDisk) {
    setMode(f32Mode());
    // The survivors' f32 vectors are cold (the traversal read codes): touch them all first (see touch).
    let sink: u32 = 0;
    for (let i = 0; i < nr; i++) sink += touch(load<u32>(gRes + (<usize>i << 3), 4));
    gSink = sink;
    for (let i = 0; i < nr; i++) {
      const p = gRes + (<usize>i << 3);
      const v = load<u32>(p, 4);
      heapPushPlain(gWork, i, score(gQuery, v), v);
    }
  } else {
    memory.copy(gWork, gRes, <usize>nr << 3);
  }
  sortBestFirst(gWork, nr);
  return nr;
}

/** Rebuilds the list of s at layer l without tombstones: its live neighbours plus theirs (two hops). */
function repairList(s: u32, l: i32): void {
  newEpoch();
  testAndVisit(s);
  const ls = linksAt(s, l);
  const n = load<u32>(ls);
  let k = 0;
  for (let i: u32 = 0; i < n; i++) {
    const x = load<u32>(ls + 4 + (<usize>i << 2));
    if (flagOf(x) == FLAG_LIVE) {
      if (!testAndVisit(x)) k = heapPushPlain(gWork, k, pairScore(s, x), x);
      continue;
    }
    if (levelOf(x) < l) continue;
    const lx = linksAt(x, l);
    const nx = load<u32>(lx);
    for (let j: u32 = 0; j < nx; j++) {
      const y = load<u32>(lx + 4 + (<usize>j << 2));
      if (flagOf(y) == FLAG_LIVE && !testAndVisit(y)) k = heapPushPlain(gWork, k, pairScore(s, y), y);
    }
  }
  sortBestFirst(gWork, k);
  writeSel(ls, selectHeuristic(gWork, k, l == 0 ? gM0 : gM));
}

/** True when the list of x at layer l holds slot. */
function linksTo(x: u32, l: i32, slot: u32): bool {
  const lx = linksAt(x, l);
  const n = load<u32>(lx);
  for (let i: u32 = 0; i < n; i++) if (load<u32>(lx + 4 + (<usize>i << 2)) == slot) return true;
  return false;
}

/**
 * Local repair around slot, already flagged TOMB (deleted, or about to be re-inserted with a new
 * vector): at each of its layers, every neighbour whose own list links back to it gets that list
 * rebuilt without it (repairList: its live neighbours plus slot's, two hops through it), as hnswlib
 * repairs around an updated element. The cost is slot's neighbourhood, never the graph. Lists of
 * non-neighbours that still link to it (HNSW links are not symmetric) keep a traversable tombstone:
 * search passes through it without returning it, a reuse keeps its level so those links stay
 * valid, and consolidate() removes them. Moves the entry point off slot. Returns the lists rebuilt.
 */
export function unlink(hdr: usize, slot: u32): i32 {
  bindWriter(hdr);
  setMode(f32Mode());
  let repaired = 0;
  for (let l = levelOf(slot); l >= 0; l--) {
    const ls = linksAt(slot, l);
    const n = load<u32>(ls);
    for (let i: u32 = 0; i < n; i++) {
      const x = load<u32>(ls + 4 + (<usize>i << 2));
      if (flagOf(x) != FLAG_LIVE || levelOf(x) < l || !linksTo(x, l, slot)) continue;
      repairList(x, l);
      repaired++;
    }
  }
  if (hdrI(H_ENTRY) == <i32>slot) moveEntry(slot);
  unbind();
  return repaired;
}

/**
 * Moves the entry point off slot to its live neighbour of highest level on the highest layer that
 * has one: a node the descent reaches anyway. Only when slot has no live neighbour at all (a graph
 * of tombstones) is every slot looked at.
 */
function moveEntry(slot: u32): void {
  let best: i32 = -1;
  let bestLevel: i32 = -1;
  for (let l = levelOf(slot); l >= 0 && best < 0; l--) {
    const ls = linksAt(slot, l);
    const n = load<u32>(ls);
    for (let i: u32 = 0; i < n; i++) {
      const x = load<u32>(ls + 4 + (<usize>i << 2));
      if (flagOf(x) == FLAG_LIVE && levelOf(x) > bestLevel) {
        bestLevel = levelOf(x);
        best = <i32>x;
      }
    }
  }
  if (best < 0) {
    best = highestLive(slot);
    bestLevel = best < 0 ? 0 : levelOf(<u32>best);
  }
  setHdrI(H_ENTRY, best);
  setHdrI(H_MAXLEVEL, bestLevel);
}

/** The live slot of highest level other than `except` (-1 when none): a scan of every slot. */
function highestLive(except: u32): i32 {
  const cap = <u32>hdrI(H_CAP);
  let best: i32 = -1;
  let bestLevel: i32 = -1;
  for (let s: u32 = 0; s < cap; s++) {
    if (s != except && flagOf(s) == FLAG_LIVE && levelOf(s) > bestLevel) {
      bestLevel = levelOf(s);
      best = <i32>s;
    }
  }
  return best;
}

/**
 * Removes every tombstone from the graph: each live list that points at one is rebuilt from its live
 * neighbours and the tombstones' neighbours, then tombstones become free slots and a new entry point is
 * chosen if needed. A whole-graph pass: the index runs it when tombstones pass a share of the graph
 * (and before serializing), not per write. Returns the number of lists rebuilt.
 */
export function consolidate(hdr: usize): i32 {
  bindWriter(hdr);
  setMode(f32Mode());
  const cap = <u32>hdrI(H_CAP);
  let repaired = 0;
  for (let s: u32 = 0; s < cap; s++) {
    if (flagOf(s) != FLAG_LIVE) continue;
    const top = levelOf(s);
    for (let l = 0; l <= top; l++) {
      const ls = linksAt(s, l);
      const n = load<u32>(ls);
      for (let i: u32 = 0; i < n; i++) {
        if (flagOf(load<u32>(ls + 4 + (<usize>i << 2))) != FLAG_LIVE) {
          repairList(s, l);
          repaired++;
          break;
        }
      }
    }
  }
  for (let s: u32 = 0; s < cap; s++) if (flagOf(s) == FLAG_TOMB) store<u8>(gFlags + <usize>s, FLAG_ABSENT);
  const best = highestLive(cap);
  const entry = hdrI(H_ENTRY);
  if (entry < 0 || flagOf(<u32>entry) != FLAG_LIVE || (best >= 0 && levelOf(<u32>entry) < levelOf(<u32>best))) {
    setHdrI(H_ENTRY, best);
    setHdrI(H_MAXLEVEL, best < 0 ? 0 : levelOf(<u32>best));
  }
  setHdrI(H_TOMBS, 0);
  unbind();
  return repaired;
}

/**
 * Re-encodes the codes of slots [first, first + count) that are in use from f32 rows at src (row i
 * for slot first + i): originals on disk are streamed through the slab's staging area.
 */
export function encodeRange(hdr: usize, first: u32, count: u32, src: usize): void {
  bind(hdr);
  const quant = hdrI(H_QUANT);
  const stride = <usize>gDim << 2;
  if (quant != QUANT_NONE) {
    for (let i: u32 = 0; i < count; i++) {
      if (flagOf(first + i) != FLAG_ABSENT) encodeNode(quant, nodeAt(first + i), src + <usize>i * stride);
    }
  }
  unbind();
}

/** Re-encodes every node's codes (after the quantizer was (re)trained). */
export function encodeAll(hdr: usize): void {
  bind(hdr);
  const quant = hdrI(H_QUANT);
  const cap = <u32>hdrI(H_CAP);
  if (quant != QUANT_NONE) {
    for (let s: u32 = 0; s < cap; s++) if (flagOf(s) != FLAG_ABSENT) encodeNode(quant, nodeAt(s), vecAt(s));
  }
  unbind();
}
