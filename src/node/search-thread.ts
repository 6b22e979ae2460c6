// The body of one search thread (a worker_threads Worker started by search-threads.ts): it instantiates the
// HNSW module over each shared slab memory it is handed and runs searchLane on request, or its share of a
// parallel build (linkClaimed). It owns nothing but those instances; every byte it reads or writes is in
// the shared memories (its lane's scratch, and during a build the graph's lists under their locks).
//
// Messages in: { attach: id, memory, module } | { forget: id } | { seq, id, call: [hdr, lane, k, ef, mode] }
// | { seq, id, link: [hdr, lane], queue } (queue: an Int32Array over a SharedArrayBuffer).
// Replies: { seq, found } or { seq, error: { code, message } }. Attach and forget are not answered: a
// port delivers messages in order, so a search sent after its attach finds the instance.

import { parentPort } from "node:worker_threads";
import { QuiverError } from "../core/errors/errors.js";
import type { HnswExports } from "../core/index/hnsw/module.js";
import { instantiateHnsw } from "../core/index/hnsw/module.js";
import { linkClaimed } from "../core/index/hnsw/parallel-build.js";

interface SearchMessage {
  seq: number;
  id: number;
  call: [number, number, number, number, number];
}
interface LinkMessage {
  seq: number;
  id: number;
  link: [number, number];
  queue: Int32Array;
}
type Message =
  | { attach: number; memory: WebAssembly.Memory; module: WebAssembly.Module }
  | { forget: number }
  | SearchMessage
  | LinkMessage;

const port = parentPort;
if (!port) throw new QuiverError("INTERNAL", "search-thread.js runs as a worker thread, not as a program");
const instances = new Map<number, HnswExports>();

port.on("message", (m: Message) => {
  if ("attach" in m) {
    instances.set(m.attach, instantiateHnsw(m.module, m.memory));
    return;
  }
  if ("forget" in m) {
    instances.delete(m.forget);
    return;
  }
  try {
    const x = instances.get(m.id);
    if (!x) throw new QuiverError("INTERNAL", `search thread: no memory ${m.id} was attached`);
    if ("link" in m) {
      const [hdr, lane] = m.link;
      port.postMessage({ seq: m.seq, found: linkClaimed(x, { hdr, lane, queue: m.queue }) });
      return;
    }
    const [hdr, lane, k, ef, mode] = m.call;
    port.postMessage({ seq: m.seq, found: x.searchLane(hdr, lane, k, ef, mode) });
  } catch (e) {
    const code = e instanceof QuiverError ? e.code : "INTERNAL";
    port.postMessage({ seq: m.seq, error: { code, message: e instanceof Error ? e.message : String(e) } });
  }
});
