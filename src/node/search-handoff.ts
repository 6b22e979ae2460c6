// The handoff between the calling thread and the search threads (search-threads.ts, search-thread.ts): one
// SharedArrayBuffer of Int32 words, read and written with Atomics, instead of a message per graph search.
//
// Layout: CONTROL_WORDS control words, then one slot of SLOT_WORDS per lane the scheduler hands out.
//   control  WORK  bumped by the caller each time it queues a slot (or wants the threads to look at their
//                  port); a thread with nothing to claim sleeps on it (Atomics.wait).
//            DONE  bumped by a thread each time it finishes a slot; the caller awaits it (Atomics.waitAsync).
//   slot     STATE FREE → QUEUED (caller) → RUNNING + thread (the thread that claims it, by compareExchange,
//                  so a slot is run once and its runner is known if that thread dies) → DONE or FAILED.
//            MEMORY the pool's id of the slab memory; HDR, LANE, K, EF, MODE searchLane's arguments;
//            RESULT what it returned; ERROR_LENGTH and the error's JSON ({ code, message }) as UTF-16 units.
// The query vector and filter bitmap are already in the lane (shared memory), and so are the results.

import type { ErrorCode } from "../core/errors/errors.js";
import type { LaneCall } from "../core/index/hnsw/hnsw.js";

export const WORK = 0;
export const DONE = 1;
const CONTROL_WORDS = 4;

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

  /** Caller: writes a search into a free slot and queues it (the store of STATE publishes the fields). */
  queue(slot: number, memory: number, call: LaneCall): void {
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
    this.bump(WORK, 1);
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
    this.bump(DONE);
  }

  /** Thread: a slot's error, then FAILED, then DONE bumped. */
  fail(slot: number, code: ErrorCode, message: string): void {
    const json = JSON.stringify({ code, message }).slice(0, ERROR_UNITS);
    const base = this.at(slot, 0);
    const units = new Uint16Array(this.buffer, (base + ERROR_TEXT) * 4, ERROR_UNITS);
    for (let i = 0; i < json.length; i++) units[i] = json.charCodeAt(i);
    this.words[base + ERROR_LENGTH] = json.length;
    this.setState(slot, FAILED);
    this.bump(DONE);
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

  private at(slot: number, field: number): number {
    return CONTROL_WORDS + slot * SLOT_WORDS + field;
  }
}
