/**
 * Allocation failures: every growth of a vector memory can be refused on demand (open's growHook).
 * A write that does not fit is refused before it is logged, with RESOURCE_EXHAUSTED naming what ran
 * out; the process and its reads go on; a reopen holds every acknowledged write and nothing of a
 * refused one; and a replay that cannot get its memory refuses to open precisely, changing nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Database } from "../../src/database/database.js";
import { isQuiverError } from "../../src/core/errors/errors.js";
import { FaultyDirectory } from "../support/faulty-directory.js";

const DIM = 64;
const vec = (i: number): number[] => Array.from({ length: DIM }, (_, d) => Math.sin(i * 7 + d) + (d === 0 ? 2 : 0));

/** A growth hook whose refusals the test switches: `refuse(n)` is asked with the 0-based call number. */
function switchable() {
  const hook = {
    calls: 0,
    refuse: (_n: number): boolean => false,
    fn: (_to: number, _from: number, _label: string): boolean => !hook.refuse(hook.calls++),
  };
  return hook;
}

async function ids(db: Database): Promise<string[]> {
  const page = await (await db.collection("c")).scroll({ limit: 10_000 });
  return page.records.map((r) => r.id);
}

test("a write that cannot get memory is refused unlogged with RESOURCE_EXHAUSTED; reads and later writes go on", async () => {
  const dir = new FaultyDirectory({ seed: 1 });
  const hook = switchable();
  const db = await Database.openDirectory(dir, { growHook: hook.fn });
  const c = await db.createCollection("c", { vectors: { v: { dim: DIM, metric: "cosine", index: { type: "hnsw" } } } });
  await c.upsert(Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, vector: vec(i) })));
  hook.refuse = () => true;
  await assert.rejects(
    c.upsert(Array.from({ length: 500 }, (_, i) => ({ id: `b${i}`, vector: vec(100 + i) }))),
    (e: unknown) => isQuiverError(e, "RESOURCE_EXHAUSTED") && /c\.v: .*need \d+ bytes/.test((e as Error).message),
  );
  // Reads go on, and a write that needs no new memory (a delete) is still accepted.
  assert.equal(await c.count(), 10);
  assert.equal((await c.query({ vector: vec(3), limit: 1 })).hits[0].id, "a3");
  await c.delete(["a9"]);
  hook.refuse = () => false;
  await c.upsert([{ id: "z", vector: vec(999) }]);
  const reopened = await Database.openDirectory(dir.crash(() => 0));
  assert.deepEqual((await ids(reopened)).sort(), [...Array.from({ length: 9 }, (_, i) => `a${i}`), "z"].sort());
  await reopened.close();
  await db.close();
});

test("a replay that cannot get its memory refuses to open with RESOURCE_EXHAUSTED naming the collection, and changes nothing", async () => {
  const dir = new FaultyDirectory({ seed: 2 });
  const db = await Database.openDirectory(dir);
  const c = await db.createCollection("docs", { vectors: { v: { dim: 64, metric: "l2" } } });
  const big = (i: number) => Array.from({ length: 64 }, (_, d) => Math.cos(i + d));
  await c.upsert(Array.from({ length: 1000 }, (_, i) => ({ id: `r${i}`, vector: big(i) })));
  const crashed = dir.crash(() => 0); // the records are in the WAL only
  await assert.rejects(
    Database.openDirectory(crashed, { growHook: () => false }),
    (e: unknown) =>
      isQuiverError(e, "RESOURCE_EXHAUSTED") &&
      /collection docs, replaying wal-\d+\.log seq \d+: docs\.v: 1000 vectors of dim 64 need \d+ bytes/.test(
        (e as Error).message,
      ),
  );
  const again = await Database.openDirectory(crashed);
  assert.equal(await (await again.collection("docs")).count(), 1000);
  await again.close();
  await db.close();
});

/** A small workload: batches of new records, replacements and deletes, over a graph from the first record. */
async function workload(db: Database, acked: Map<string, number>): Promise<number> {
  const c = await db.collection("c");
  let refused = 0;
  const step = async (write: () => Promise<unknown>, apply: () => void): Promise<void> => {
    try {
      await write();
      apply();
    } catch (e) {
      if (!isQuiverError(e, "RESOURCE_EXHAUSTED")) throw e;
      refused++;
    }
  };
  for (let b = 0; b < 8; b++) {
    const batch = Array.from({ length: 40 * (b + 1) }, (_, i) => ({ id: `b${b}-${i}`, vector: vec(b * 1000 + i) }));
    await step(
      () => c.upsert(batch.map((r) => ({ ...r, payload: { b } }))),
      () => {
        for (const r of batch) acked.set(r.id, b);
      },
    );
    const old = [...acked.keys()].slice(0, 5);
    await step(
      () => c.upsert(old.map((id, i) => ({ id, vector: vec(50_000 + b * 10 + i), payload: { b: 100 + b } }))),
      () => {
        for (const id of old) acked.set(id, 100 + b);
      },
    );
    const gone = [...acked.keys()].slice(5, 8);
    await step(
      () => c.delete(gone),
      () => {
        for (const id of gone) acked.delete(id);
      },
    );
  }
  return refused;
}

async function createCollection(db: Database): Promise<void> {
  await db.createCollection("c", {
    vectors: { v: { dim: DIM, metric: "cosine", index: { type: "hnsw", m: 4, efConstruction: 32 } } },
  });
}

test("refusing each growth point of a workload in turn: 0 unopenable databases, 0 lost or phantom writes", async () => {
  // First the growth points themselves: every call the workload makes to grow a vector memory.
  const probe = switchable();
  const dry = await Database.openDirectory(new FaultyDirectory({ seed: 3 }), { growHook: probe.fn });
  await createCollection(dry);
  const afterCreate = probe.calls;
  await workload(dry, new Map());
  await dry.close();
  const points = probe.calls - afterCreate;
  assert.ok(points >= 5, `the workload grows memory ${points} times`);
  let unopenable = 0;
  let lost = 0;
  let refusedWrites = 0;
  for (const persistent of [false, true]) {
    for (let p = 0; p < points; p++) {
      const dir = new FaultyDirectory({ seed: 100 + p });
      const hook = switchable();
      const db = await Database.openDirectory(dir, { growHook: hook.fn });
      await createCollection(db);
      const start = hook.calls;
      // Refuse growth point p only, or (persistent) p and every later one: memory stays exhausted.
      hook.refuse = (n) => (persistent ? n - start >= p : n - start === p);
      const acked = new Map<string, number>();
      refusedWrites += await workload(db, acked);
      assert.equal(
        await (await db.collection("c")).count(),
        acked.size,
        "reads go on and agree with what was acknowledged",
      );
      let reopened: Database;
      try {
        reopened = await Database.openDirectory(dir.crash(() => 0));
      } catch (e) {
        unopenable++;
        assert.fail(`growth point ${p}${persistent ? " onwards" : ""}: reopen failed: ${String(e)}`);
      }
      const recs = await (await reopened.collection("c")).scroll({ limit: 10_000, withPayload: true });
      const found = new Map(recs.records.map((r) => [r.id, (r.payload as { b: number }).b]));
      for (const [id, b] of acked) if (found.get(id) !== b) lost++;
      assert.deepEqual(found, acked, `growth point ${p}${persistent ? " onwards" : ""}`);
      await reopened.close();
      await db.close();
    }
  }
  console.log(
    `# ${points} growth points, each refused once and from there on: ${2 * points} runs, ${refusedWrites} writes refused, ${unopenable} unopenable, ${lost} lost`,
  );
  assert.ok(refusedWrites > 0);
});
