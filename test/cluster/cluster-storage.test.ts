/**
 * The storage side of `quiver serve --cluster`, as processes on loopback (one etcd member, s3rver):
 * a writer node, query nodes and indexer nodes with a low compaction threshold (--compact-after=10).
 * kill -9 of an indexer node in the middle of a compaction (the instant it logs that it started;
 * the test checks the manifest did not move, else it tries again) loses nothing, and the next indexer
 * compacts and trims the logs (manifest and pointers checked in etcd); garbage collection then leaves
 * exactly the objects the manifest and the live pointers name; a query node that joins afterwards
 * loads the shards from their manifests through its disk cache (its folder holds the manifests'
 * objects) and, once it serves alone, answers with every acknowledged upsert exact, no acknowledged
 * delete undone, and an exact top k equal to a brute-force scan of the acknowledged state.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EtcdCoordinator } from "../../src/cluster/etcd/etcd-coordinator.js";
import { S3ObjectStore } from "../../src/cluster/s3/s3-object-store.js";
import { type ShardManifest, readShardManifest, referencedKeys } from "../../src/cluster/shard-manifest.js";
import { shardLog } from "../../src/cluster/shard-map.js";
import { bruteTopK, randomVector, rng } from "../support/brute.js";
import { EtcdMember, S3Stand } from "../support/cluster-services.js";
import { type NodeSettings, QuiverNode } from "../support/quiver-nodes.js";

const DIM = 8;
const SHARDS = 2;
const COMPACT_AFTER = 10;
const GC_GRACE_MS = 1500;
const LOGS = Array.from({ length: SHARDS }, (_, shard) => shardLog({ name: "docs", generation: 1 }, shard));

interface Sent {
  id: string;
  vector: number[];
  payload: { i: number; note: string };
}

describe("serve --cluster storage: compaction, kill -9 of an indexer, a query node loading from manifests", () => {
  let etcd: EtcdMember;
  let s3: S3Stand;
  let settings: NodeSettings;
  let coordinator: EtcdCoordinator;
  let objects: S3ObjectStore;
  let folder: string;
  const nodes = new Map<string, QuiverNode>();
  const acked = new Map<string, Sent>();
  const deleted = new Set<string>();
  const minSeq: Record<string, number> = {};
  const random = rng(23);
  let counter = 0;

  const start = async (id: string, roles: string, extra: string[] = []): Promise<QuiverNode> => {
    const n = await QuiverNode.start(id, settings, roles, [`--cache-dir=${join(folder, id)}`, ...extra]);
    nodes.set(id, n);
    return n;
  };
  const indexerFlags = [`--compact-after=${COMPACT_AFTER}`, `--gc-grace-ms=${GC_GRACE_MS}`];
  const node = (id: string): QuiverNode => nodes.get(id) as QuiverNode;
  const raise = (seqs: unknown): void => {
    for (const [shard, seq] of Object.entries(seqs as Record<string, number>))
      minSeq[shard] = Math.max(minSeq[shard] ?? 0, seq);
  };

  /** `batches` acknowledged upserts of 20 records through the writer; every third also deletes 3 ids. */
  const writeBatches = async (batches: number): Promise<void> => {
    for (let b = 0; b < batches; b++) {
      const records = Array.from({ length: 20 }, (): Sent => {
        const i = counter++;
        return { id: `p${i}`, vector: randomVector(random, DIM).map(Math.fround), payload: { i, note: `record ${i}` } };
      });
      const up = await node("w1").call("POST", "/v1/collections/docs/upsert", { records });
      assert.equal(up.status, 200, JSON.stringify(up.json));
      for (const r of records) acked.set(r.id, r);
      raise(up.json.seqs);
      if (b % 3 === 2) {
        const ids = [...acked.keys()].slice(0, 3);
        const del = await node("w1").call("POST", "/v1/collections/docs/delete", { ids });
        assert.equal(del.status, 200, JSON.stringify(del.json));
        for (const id of ids) {
          acked.delete(id);
          deleted.add(id);
        }
        raise(del.json.seqs);
      }
    }
  };

  /** Every acknowledged upsert exact, no acknowledged delete undone, the exact top k by brute force. */
  const check = async (via: string): Promise<void> => {
    const headers = { "quiver-min-seq": JSON.stringify(minSeq) };
    const ids = [...acked.keys(), ...deleted];
    const got = await node(via).call("POST", "/v1/collections/docs/get", { ids, withVectors: true }, headers);
    assert.equal(got.status, 200, JSON.stringify(got.json));
    const found = new Map(
      (got.json.records as { id: string; vectors: { v: number[] }; payload: unknown }[]).map((r) => [r.id, r]),
    );
    for (const sent of acked.values()) {
      const r = found.get(sent.id);
      assert.ok(r, `acknowledged ${sent.id} is missing`);
      assert.deepEqual(r.vectors.v, sent.vector);
      assert.deepEqual(r.payload, sent.payload);
    }
    for (const id of deleted) assert.ok(!found.has(id), `deleted ${id} is back`);
    const count = await node(via).call("POST", "/v1/collections/docs/count", {}, headers);
    assert.equal(count.json.count, acked.size);
    const state = [...acked.values()].map((r) => ({ id: r.id, vector: r.vector }));
    for (let q = 0; q < 3; q++) {
      const vector = randomVector(random, DIM);
      const r = await node(via).call("POST", "/v1/collections/docs/query", { vector, limit: 10, exact: true }, headers);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(
        (r.json.hits as { id: string }[]).map((h) => h.id),
        bruteTopK("dot", state, vector, 10).map((h) => h.id),
      );
    }
  };

  /** Waits until every shard's manifest satisfies `ok` and its pointers are trimmed through it. */
  const compacted = async (
    ok: (m: ShardManifest, shard: number) => boolean,
    what: string,
  ): Promise<ShardManifest[]> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const manifests = await Promise.all(
        LOGS.map(async (log) => (await readShardManifest(coordinator, log)).manifest),
      );
      const pointers = await Promise.all(LOGS.map((log) => coordinator.read(log, 1)));
      const heads = await Promise.all(LOGS.map((log) => coordinator.head(log)));
      if (
        manifests.every((m, s) => ok(m, s)) &&
        manifests.every((m, s) => pointers[s]!.every((p) => p.seq > m.appliedThrough)) &&
        manifests.every((m, s) => heads[s]! - m.appliedThrough <= COMPACT_AFTER)
      )
        return manifests;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(manifests)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  before(async () => {
    [etcd, s3] = await Promise.all([EtcdMember.start(), S3Stand.start()]);
    folder = await mkdtemp(join(tmpdir(), "quiver-cluster-storage-"));
    settings = { etcd: etcd.endpoint, s3, etcdPrefix: `st${Date.now()}/`, shards: SHARDS, replicas: 2, leaseMs: 2000 };
    coordinator = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix: settings.etcdPrefix });
    objects = new S3ObjectStore({
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      credentials: s3.credentials,
      prefix: settings.etcdPrefix,
    });
    await Promise.all([start("w1", "writer"), start("q0", "query")]);
    const created = await node("w1").call("PUT", "/v1/collections/docs", {
      schema: { vectors: { v: { dim: DIM, metric: "dot" } } },
    });
    assert.equal(created.status, 200, JSON.stringify(created.json));
  });

  after(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop("SIGKILL")));
    coordinator?.close();
    objects?.close();
    await Promise.all([etcd?.stop(), s3?.stop(), folder && rm(folder, { recursive: true, force: true })]);
  });

  it("kill -9 of an indexer mid-compaction: nothing moves, the next indexer compacts and trims, nothing is lost", async () => {
    let landedMid = false;
    for (let attempt = 1; attempt <= 3 && !landedMid; attempt++) {
      await writeBatches(3 * COMPACT_AFTER);
      const victim = await start(`i${attempt}`, "indexer", indexerFlags);
      const [, log, seq] = await victim.killWhenLogged(/compacting (\S+) after seq (\d+)/, 20_000);
      const { manifest } = await readShardManifest(coordinator, log as string);
      landedMid = manifest.appliedThrough === Number(seq);
      if (!landedMid) console.log(`attempt ${attempt}: the compaction of ${log} committed before the kill`);
    }
    assert.ok(landedMid, "a kill landed between the start of a compaction and its commit");
    await check("w1");
    await start("i9", "indexer", indexerFlags);
    const manifests = await compacted((m) => m.generation >= 1, "a compaction of each shard");
    for (const m of manifests) assert.ok(m.segments.length > 0 && m.appliedThrough > COMPACT_AFTER);
    await check("w1");
  });

  it("writes go on and are compacted again; garbage collection leaves exactly what the manifests and pointers name", async () => {
    const before = await Promise.all(LOGS.map(async (log) => (await readShardManifest(coordinator, log)).manifest));
    await writeBatches(2 * COMPACT_AFTER);
    await compacted((m, s) => m.generation > before[s]!.generation, "another compaction of each shard");
    const deadline = Date.now() + 30_000;
    for (const log of LOGS)
      for (;;) {
        const listed = (await Promise.all(["batches/", "segments/", "graphs/"].map((k) => objects.list(`${log}/${k}`))))
          .flat()
          .map((o) => o.key)
          .sort();
        const { manifest } = await readShardManifest(coordinator, log);
        const pointers = await coordinator.read(log, 1);
        const named = [...referencedKeys(manifest), ...pointers.map((p) => p.objectKey)].sort();
        if (JSON.stringify(listed) === JSON.stringify(named)) break;
        assert.ok(Date.now() < deadline, `${log}: objects ${listed.length}, named ${named.length}, after 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    await check("w1");
  });

  it("a query node joining afterwards loads from the manifests through its disk cache and answers exactly alone", async () => {
    await start("q1", "query");
    const manifests = await Promise.all(LOGS.map(async (log) => (await readShardManifest(coordinator, log)).manifest));
    const wanted = manifests.flatMap((m) =>
      m.segments.flatMap((s) => (s.graphSha256 ? [s.sha256, s.graphSha256] : [s.sha256])),
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      const files = new Set(await readdir(join(folder, "q1")).catch(() => [] as string[]));
      if (wanted.every((sha) => files.has(`${sha}.obj`))) break;
      assert.ok(
        Date.now() < deadline,
        `q1's cache holds ${files.size} files, not the ${wanted.length} of the manifests`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await node("q0").stop("SIGTERM");
    const ready = Date.now() + 20_000;
    while ((await node("q1").call("POST", "/v1/collections/docs/count", {})).status !== 200) {
      assert.ok(Date.now() < ready, "q1 serves every shard within 20 s");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await check("q1");
    await check("w1");
  });
});
