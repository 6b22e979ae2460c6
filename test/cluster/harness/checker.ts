/**
 * The fault harness's recorder and checker. A writer process reports each attempt on stdout
 * (`lease <epoch>`, `try <i>`, `ack <i> <seq>`, `fail <i> <code> <reason>`); `writerHistory` reads
 * that back. `checkShard` then holds a shard to the acknowledged history: the log contains every
 * acknowledged batch at the seq it was acknowledged with, and nothing that was never tried; epochs
 * never go back along the log (a fenced writer's late commit would); and a follower's whole state
 * equals the replay of the log (every acknowledged upsert with its exact payload and vector, no
 * acknowledged delete undone), its exact top k equal to a brute-force scan of that state.
 */
import type { CollectionApi } from "../../../src/api/types.js";
import { decodeBatch, encodeBatch, sha256Hex } from "../../../src/cluster/batch.js";
import type { CommitLog } from "../../../src/cluster/commit-log.js";
import type { ObjectStore } from "../../../src/cluster/object-store.js";
import { bruteTopK, randomVector, rng } from "../../support/brute.js";
import { type Expected, stateOf } from "../../support/shard-workload.js";
import { DIM, batchIdentity, writerBatch } from "./workload.js";

export interface WriterHistory {
  tag: string;
  /** The epoch of the lease the writer held (null: it never got one). */
  epoch: number | null;
  tried: Set<number>;
  /** Acknowledged batch -> the seq the acknowledgement returned. */
  acked: Map<number, number>;
  failures: { i: number; code: string; reason: string }[];
}

export function writerHistory(tag: string, lines: readonly string[]): WriterHistory {
  const history: WriterHistory = { tag, epoch: null, tried: new Set(), acked: new Map(), failures: [] };
  for (const line of lines) {
    const [word, a, b, ...rest] = line.split(" ");
    if (word === "lease") history.epoch = Number(a);
    else if (word === "try") history.tried.add(Number(a));
    else if (word === "ack") history.acked.set(Number(a), Number(b));
    else if (word === "fail") history.failures.push({ i: Number(a), code: b, reason: rest.join(" ") });
  }
  return history;
}

export interface ShardCheck {
  /** Entries in the log. */
  entries: number;
  /** Batches acknowledged to the writers. */
  acknowledged: number;
  /** Record operations (upserts and deletes) in the acknowledged batches. */
  operations: number;
  /** Acknowledged batches not found at their seq in the log. */
  losses: number;
  /** Everything that breaks the invariants, empty when the shard is right. */
  problems: string[];
}

export async function checkShard(options: {
  log: string;
  commitLog: CommitLog;
  objects: ObjectStore;
  writers: WriterHistory[];
  collection: CollectionApi;
  seed: number;
}): Promise<ShardCheck> {
  const { log, writers } = options;
  const problems: string[] = [];
  const byTag = new Map(writers.map((w) => [w.tag, w]));
  const entries = await options.commitLog.read(log, 1);
  const logged = new Map<number, string>();
  const expected = new Map<string, Expected>();
  let lastEpoch = 0;
  for (const [n, entry] of entries.entries()) {
    if (entry.seq !== n + 1) problems.push(`log: entry ${n + 1} has seq ${entry.seq}`);
    if (entry.epoch < lastEpoch) problems.push(`seq ${entry.seq}: epoch ${entry.epoch} after epoch ${lastEpoch}`);
    lastEpoch = Math.max(lastEpoch, entry.epoch);
    const bytes = await options.objects.get(entry.objectKey);
    if (bytes === null || (await sha256Hex(bytes)) !== entry.sha256) {
      problems.push(`seq ${entry.seq}: batch ${entry.objectKey} missing or not matching its sha256`);
      continue;
    }
    const ops = decodeBatch(bytes, entry.objectKey);
    const id = batchIdentity(ops);
    const writer = id && byTag.get(id.tag);
    if (!id || !writer?.tried.has(id.i)) {
      problems.push(`seq ${entry.seq}: a batch no writer tried (${JSON.stringify(id)})`);
      continue;
    }
    if (writer.epoch !== entry.epoch)
      problems.push(`seq ${entry.seq}: ${id.tag}'s batch under epoch ${entry.epoch}, its lease had ${writer.epoch}`);
    const key = `${id.tag}/${id.i}`;
    if ([...logged.values()].includes(key)) problems.push(`seq ${entry.seq}: batch ${key} logged twice`);
    logged.set(entry.seq, key);
    const batch = writerBatch(id.tag, id.i);
    if (JSON.stringify(ops) !== JSON.stringify(decodeBatch(encodeBatch(batch), key)))
      problems.push(`seq ${entry.seq}: batch ${key} differs from what was written`);
    for (const op of batch)
      if (op.op === "delete") for (const rid of op.ids) expected.delete(rid);
      else
        for (const r of op.records)
          expected.set(r.id, { vector: Array.from(r.vector as number[]), payload: r.payload ?? {} });
  }
  let acknowledged = 0;
  let operations = 0;
  let losses = 0;
  for (const w of writers)
    for (const [i, seq] of w.acked) {
      acknowledged++;
      for (const op of writerBatch(w.tag, i)) operations += op.op === "delete" ? op.ids.length : op.records.length;
      if (logged.get(seq) !== `${w.tag}/${i}`) {
        losses++;
        problems.push(`lost: ${w.tag}'s batch ${i}, acknowledged as seq ${seq}, is not there`);
      }
    }
  problems.push(...(await compareState(options.collection, expected)));
  problems.push(...(await compareTopK(options.collection, expected, options.seed)));
  return { entries: entries.length, acknowledged, operations, losses, problems };
}

async function compareState(collection: CollectionApi, expected: Map<string, Expected>): Promise<string[]> {
  const problems: string[] = [];
  const actual = await stateOf(collection);
  for (const [id, want] of expected) {
    const got = actual.get(id);
    if (!got) problems.push(`state: ${id} missing`);
    else if (JSON.stringify(got) !== JSON.stringify(want))
      problems.push(`state: ${id} is ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
  }
  for (const id of actual.keys())
    if (!expected.has(id)) problems.push(`state: ${id} present, deleted or never written`);
  return problems;
}

/** Exact top 10 of a few seeded queries against a brute-force scan of the expected state. */
async function compareTopK(
  collection: CollectionApi,
  expected: Map<string, Expected>,
  seed: number,
): Promise<string[]> {
  const problems: string[] = [];
  const random = rng(seed);
  const records = [...expected].map(([id, e]) => ({ id, vector: e.vector }));
  for (let q = 0; q < 3; q++) {
    const vector = randomVector(random, DIM);
    const { hits } = await collection.query({ vector, limit: 10, exact: true, withPayload: false });
    const got = hits.map((h) => h.id);
    const want = bruteTopK("l2", records, vector, 10).map((h) => h.id);
    if (JSON.stringify(got) !== JSON.stringify(want))
      problems.push(`top 10 of query ${q}: ${JSON.stringify(got)}, brute force ${JSON.stringify(want)}`);
  }
  return problems;
}
