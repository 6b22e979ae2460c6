// The handoff between the calling thread and the search threads (search-threads.ts, search-thread.ts): one
// SharedArrayBuffer of Int32 words, read and written with Atomics, instead of a message per graph search.
//
// Layout: CONTROL_WORDS control words, then one slot of SLOT_WORDS per lane the scheduler hands out.
//   control  WORK  bumped by the caller each time it queues a slot (or wants the threads to look at their
//                  port); a thread with nothing to claim spins on it briefly, then sleeps on it (Atomics.wait).
//            DONE  bumped by a thread each time it finishes a slot; the caller awaits it (Atomics.waitAsync).
//            SLEEPERS threads inside Atomics.wait on WORK (or about to be): queue() notifies only when some
//                  are, since a notify costs a system call and a spinning thread sees WORK move by itself.
//            PARKED 1 while the caller awaits DONE: a thread notifies DONE only then.
//            MAIL  bumped by the caller after each message it posts to the threads' ports: a thread reads
//                  its port when MAIL moved, wherever it is in its loop (a message posted just before a
//                  thread went back to sleep was otherwise left unread until the next wake-up).
// Each side stores its flag (SLEEPERS, PARKED) before it reads the word it will wait on, and each waker
// bumps the word before it reads the flag, so a sleeper either sees the bump or is seen (no lost wake-up).
//   slot     STATE FREE → QUEUED (caller) → RUNNING + thread (the thread that claims it, by compareExchange,
//                  so a slot is run once and its runner is known if that thread dies) → DONE or FAILED.
//            MEMORY the pool's id of the slab memory; HDR, LANE, K, EF, MODE searchLane's arguments;
//            RESULT what it returned; ERROR_LENGTH and the error's JSON ({ code, message }) as UTF-16 units.
// The query vector and filter bitmap are already in the lane (shared memory), and so are the results.

import type { ErrorCode } from "../core/errors/errors.js";
import type { LaneCall } from "../core/index/hnsw/hnsw.js";

export const WORK = 0;
export const DONE = 1;
export const SLEEPERS = 2;
export const PARKED = 3;
export const MAIL = 4;
const CONTROL_WORDS = 8;

export const FREE = 0;
export const QUEUED = 1;
export const FINISHED = 2;
export const FAILED = 3;
/** STATE of a slot that thread t is running: RUNNING + t. */
export const RUNNING = 16;

const STATE = 0;
const MEMORY = 1;
const HDR = 2;
const LANE = 3;
const K = 4;
const EF = 5;
const MODE = 6;
const RESULT = 7;
const ERROR_LENGTH = 8;
const ERROR_TEXT = 9;
/** Room for an error's JSON, in UTF-16 units (two per word); longer messages are cut. */
const ERROR_UNITS = 480;
const SLOT_WORDS = ERROR_TEXT + ERROR_UNITS / 2;

/**
 * How long a side spins before it sleeps, in reads of a word (~10 to 20 ns each): doubled when a spin
 * saw the word move, halved when it did not, so a side whose calls come back to back keeps spinning
 * and an idle one soon sleeps at once (it spins `min` reads per wake-up, a µs or less).
 */
export class SpinBudget {
  constructor(
    private readonly min: number,
    private readonly max: number,
    public reads = min,
  ) {}

  /** Records whether the last spin saw the word move. */
  update(moved: boolean): void {
    this.reads = moved ? Math.min(this.max, this.reads * 2) : Math.max(this.min, this.reads >> 1);
  }
}

/** A view of one handoff buffer, the same on both sides. */
export class Handoff {
  readonly words: Int32Array;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly slots: number,
  ) {
    this.words = new Int32Array(buffer);
  }

  static create(slots: number): Handoff {
    return new Handoff(new SharedArrayBuffer((CONTROL_WORDS + slots * SLOT_WORDS) * 4), slots);
  }

  state(slot: number): number {
    return Atomics.load(this.words, this.at(slot, STATE));
  }

  setState(slot: number, state: number): void {
    Atomics.store(this.words, this.at(slot, STATE), state);
  }

  /** Moves a slot from `from` to `to` if it is in `from`; true when this call moved it. */
  move(slot: number, from: number, to: number): boolean {
    return Atomics.compareExchange(this.words, this.at(slot, STATE), from, to) === from;
  }

  /**
   * Caller: writes a search into a free slot and queues it (the store of STATE publishes the fields).
   * `wake` false leaves sleeping threads asleep: a caller that runs searches itself wakes them only for
   * the searches it cannot take at once (wakeSleepers), since a wake-up costs more than a short search.
   */
  queue(slot: number, memory: number, call: LaneCall, wake = true): void {
    const w = this.words;
    const base = this.at(slot, 0);
    w[base + MEMORY] = memory;
    w[base + HDR] = call.hdr;
    w[base + LANE] = call.lane;
    w[base + K] = call.k;
    w[base + EF] = call.ef;
    w[base + MODE] = call.filterMode;
    this.setState(slot, QUEUED);
    // One search wakes one sleeping thread; a thread that finishes a search looks for the next before sleeping.
    Atomics.add(this.words, WORK, 1);
    if (wake) this.wakeSleepers(1);
  }

  /** Caller: wakes up to `count` sleeping threads (none if none sleeps: spinning ones see WORK move). */
  wakeSleepers(count: number): void {
    if (Atomics.load(this.words, SLEEPERS) > 0) Atomics.notify(this.words, WORK, count);
  }

  /** Thread: the arguments of a slot it claimed. */
  call(slot: number): { memory: number; call: LaneCall } {
    const w = this.words;
    const base = this.at(slot, 0);
    return {
      memory: w[base + MEMORY],
      call: { hdr: w[base + HDR], lane: w[base + LANE], k: w[base + K], ef: w[base + EF], filterMode: w[base + MODE] },
    };
  }

  /** Thread: a slot's result, then FINISHED, then DONE bumped. */
  finish(slot: number, found: number): void {
    this.words[this.at(slot, RESULT)] = found;
    this.setState(slot, FINISHED);
    this.done();
  }

  /** Thread: DONE bumped, and the caller woken if it is parked on it. */
  private done(): void {
    Atomics.add(this.words, DONE, 1);
    if (Atomics.load(this.words, PARKED) !== 0) Atomics.notify(this.words, DONE);
  }

  /** Thread: a slot's error, then FAILED, then DONE bumped. */
  fail(slot: number, code: ErrorCode, message: string): void {
    const json = JSON.stringify({ code, message }).slice(0, ERROR_UNITS);
    const base = this.at(slot, 0);
    const units = new Uint16Array(this.buffer, (base + ERROR_TEXT) * 4, ERROR_UNITS);
    for (let i = 0; i < json.length; i++) units[i] = json.charCodeAt(i);
    this.words[base + ERROR_LENGTH] = json.length;
    this.setState(slot, FAILED);
    this.done();
  }

  result(slot: number): number {
    return this.words[this.at(slot, RESULT)];
  }

  /** Caller: a FAILED slot's error (a message cut at ERROR_UNITS no longer parses: its text is kept). */
  error(slot: number): { code: ErrorCode; message: string } {
    const base = this.at(slot, 0);
    const units = new Uint16Array(this.buffer, (base + ERROR_TEXT) * 4, this.words[base + ERROR_LENGTH]);
    const text = String.fromCharCode(...units);
    try {
      return JSON.parse(text) as { code: ErrorCode; message: string };
    } catch {
      return { code: "INTERNAL", message: text };
    }
  }

  /** Bumps a control word and wakes `wake` of those who sleep on it (all by default). */
  bump(word: number, wake = Number.POSITIVE_INFINITY): void {
    Atomics.add(this.words, word, 1);
    Atomics.notify(this.words, word, wake);
  }

  /**
   * Spins until `word` is no longer `seen`, at most `budget` reads; true when it moved. The spin that
   * saves a wake-up (tens of µs on an idle machine, more on a loaded one) when the next call or answer
   * comes within a few µs.
   */
  spin(word: number, seen: number, budget: number): boolean {
    for (let i = 0; i < budget; i++) if (Atomics.load(this.words, word) !== seen) return true;
    return false;
  }

  private at(slot: number, field: number): number {
    return CONTROL_WORDS + slot * SLOT_WORDS + field;
  }
}
