// The body of one search thread (a worker_threads Worker started by search-threads.ts): it instantiates the
// HNSW module over each shared slab memory it is handed and runs searchLane for the slots of the handoff
// buffer (search-handoff.ts) it claims, or its share of a parallel build (linkClaimed). It owns nothing but
// those instances; every byte it reads or writes is in the shared memories (its lane's scratch, and during a
// build the graph's lists under their locks) and the handoff buffer.
//
// The loop: claim any QUEUED slot (compareExchange, so two threads never run one slot), run it, finish it;
// when none is queued, spin on the WORK word for a budget that adapts (SpinBudget: it grows while the next
// search comes within the spin), then sleep on it (Atomics.wait, counted in SLEEPERS so the caller
// notifies only sleepers) until the caller queues one. Searches queued while a thread runs or spins are
// taken without sleeping in between.
//
// Messages arrive on `port`, read synchronously (receiveMessageOnPort) whenever the MAIL word moved (the
// caller bumps it after each post; checked at every turn of the loop, so a message posted while the thread
// was busy is read before it sleeps) and whenever a slot names a memory not yet seen: { attach: id, memory, module } | { forget: id } | { seq, id, link:
// [hdr, lane], queue } (queue: an Int32Array over a SharedArrayBuffer). The caller posts a memory's attach
// before it queues the first search over it, so the message is already there. A link is run when read and
// answered on parentPort with { seq, found } or { seq, error: { code, message } }; builds run only while
// searches are held off, so a link never interrupts a search.

import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { QuiverError } from "../core/errors/errors.js";
import type { HnswExports } from "../core/index/hnsw/module.js";
import { instantiateHnsw } from "../core/index/hnsw/module.js";
import { linkClaimed } from "../core/index/hnsw/parallel-build.js";
import { Handoff, MAIL, QUEUED, RUNNING, SLEEPERS, SpinBudget, WORK } from "./search-handoff.js";

type Message =
  | { attach: number; memory: WebAssembly.Memory; module: WebAssembly.Module }
  | { forget: number }
  | { seq: number; id: number; link: [number, number]; queue: Int32Array };

const data = workerData as { index: number; buffer: SharedArrayBuffer; slots: number; port: MessagePort } | undefined;
if (!data?.buffer) throw new QuiverError("INTERNAL", "search-thread.js runs as a search thread, not as a program");
const { index, port } = data;
const handoff = new Handoff(data.buffer, data.slots);
const instances = new Map<number, HnswExports>();

function readPort(): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    const msg = m.message as Message;
    if ("attach" in msg) instances.set(msg.attach, instantiateHnsw(msg.module, msg.memory));
    else if ("forget" in msg) instances.delete(msg.forget);
    else link(msg);
  }
}

/** Runs this thread's share of a parallel build and answers it. */
function link(m: { seq: number; id: number; link: [number, number]; queue: Int32Array }): void {
  try {
    const x = instances.get(m.id);
    if (!x) throw new QuiverError("INTERNAL", `no memory ${m.id} was attached`);
    const [hdr, lane] = m.link;
    parentPort!.postMessage({ seq: m.seq, found: linkClaimed(x, { hdr, lane, queue: m.queue }) });
  } catch (e) {
    const code = e instanceof QuiverError ? e.code : "INTERNAL";
    parentPort!.postMessage({
      seq: m.seq,
      error: { code, message: `search thread ${index}: ${e instanceof Error ? e.message : String(e)}` },
    });
  }
}

function run(slot: number): void {
  try {
    const { memory, call } = handoff.call(slot);
    if (!instances.has(memory)) readPort();
    const x = instances.get(memory);
    if (!x) throw new QuiverError("INTERNAL", `no memory ${memory} was attached`);
    handoff.finish(slot, x.searchLane(call.hdr, call.lane, call.k, call.ef, call.filterMode));
  } catch (e) {
    const code = e instanceof QuiverError ? e.code : "INTERNAL";
    handoff.fail(slot, code, `search thread ${index}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Claims and runs every queued slot; false when there was none. */
function runQueued(): boolean {
  let ran = false;
  for (let s = 0; s < handoff.slots; s++) {
    if (handoff.state(s) === QUEUED && handoff.move(s, QUEUED, RUNNING + index)) {
      run(s);
      ran = true;
    }
  }
  return ran;
}

/** 32 reads (under a µs) to 4,096 (~50 to 80 µs: about one wake-up of a sleeping thread). */
const budget = new SpinBudget(32, 4096);
const words = handoff.words;
let mail = Number.NaN;
for (;;) {
  const seen = Atomics.load(words, WORK);
  // MAIL is read before the port, and bumped after each post: a message counted is there to read.
  const m = Atomics.load(words, MAIL);
  if (m !== mail) {
    mail = m;
    readPort();
  }
  if (runQueued()) continue;
  const moved = handoff.spin(WORK, seen, budget.reads);
  budget.update(moved);
  if (moved) continue;
  // Counted before WORK is compared: a caller that queues after this either sees the count and notifies,
  // or bumped WORK first, and then Atomics.wait returns at once.
  Atomics.add(words, SLEEPERS, 1);
  Atomics.wait(words, WORK, seen);
  Atomics.sub(words, SLEEPERS, 1);
}
