/**
 * `quiver serve --cluster` as processes on loopback: one etcd member, s3rver, three nodes (3 shards,
 * 2 replicas, 2 s leases). Any node takes writes and reads; keys created on one node work on the
 * others; read-your-writes with the seqs a write returns; the merged exact top k equals a brute-force
 * scan of the acknowledged state; a writer killed with SIGKILL has its shards taken over and later
 * writes through other nodes succeed with no acknowledged write lost; a query node joining and
 * leaving fails no query; a text query (english analyzer, 3 shards) answers with one embedded
 * database's ids and scores. The checker keeps every write it sent: acknowledged ones must be there,
 * exactly; unacknowledged ones (in flight at the kill) may or may not be.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EtcdCoordinator } from "../../src/cluster/etcd/etcd-coordinator.js";
import { shardLog } from "../../src/cluster/shard-map.js";
import { open } from "../../src/index.js";
import { bruteTopK, randomVector, rng } from "../support/brute.js";
import { EtcdMember, S3Stand } from "../support/cluster-services.js";
import { ADMIN_KEY, QuiverNode, type NodeSettings } from "../support/quiver-nodes.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const DIM = 6;
const SHARDS = 3;
const LEASE_MS = 2000;

interface Sent {
  id: string;
  vector: number[];
  payload: { i: number; note: string };
}

describe("quiver serve --cluster: three node processes on etcd and s3rver", () => {
  let etcd: EtcdMember;
  let s3: S3Stand;
  let settings: NodeSettings;
  const nodes = new Map<string, QuiverNode>();
  const acked = new Map<string, Sent>();
  const unacked = new Map<string, Sent>();
  const minSeq: Record<string, number> = {};
  const random = rng(17);
  let counter = 0;

  const node = (id: string): QuiverNode => nodes.get(id) as QuiverNode;
  const nextRecord = (): Sent => {
    const i = counter++;
    return {
      id: `p${i}`,
      vector: randomVector(random, DIM).map(Math.fround),
      payload: { i, note: `record ${i}` },
    };
  };
  /** Upserts through `via`; the acknowledged seqs raise the read-your-writes token. */
  const write = async (via: string, records: Sent[]): Promise<boolean> => {
    for (const r of records) unacked.set(r.id, r);
    const { status, json } = await node(via).call("POST", "/v1/collections/docs/upsert", { records });
    if (status !== 200) return false;
    for (const r of records) {
      unacked.delete(r.id);
      acked.set(r.id, r);
    }
    for (const [shard, seq] of Object.entries(json.seqs as Record<string, number>))
      minSeq[shard] = Math.max(minSeq[shard] ?? 0, seq);
    return true;
  };
  const readHeaders = () => ({ "quiver-min-seq": JSON.stringify(minSeq) });

  /** Every acknowledged record is there, exactly; nothing else but writes in flight; top k exact. */
  const check = async (via: string): Promise<void> => {
    const ids = [...acked.keys(), ...unacked.keys()];
    const { status, json } = await node(via).call(
      "POST",
      "/v1/collections/docs/get",
      { ids, withVectors: true },
      readHeaders(),
    );
    assert.equal(status, 200, JSON.stringify(json));
    const found = new Map(
      (json.records as { id: string; vectors: { v: number[] }; payload: unknown }[]).map((r) => [r.id, r]),
    );
    for (const sent of acked.values()) {
      const got = found.get(sent.id);
      assert.ok(got, `acknowledged ${sent.id} is missing`);
      assert.deepEqual(got.vectors.v, sent.vector);
      assert.deepEqual(got.payload, sent.payload);
    }
    const count = await node(via).call("POST", "/v1/collections/docs/count", {}, readHeaders());
    assert.equal(count.json.count, found.size, "no record beyond those written");
    const state = [...found.values()].map((r) => ({ id: r.id, vector: r.vectors.v }));
    for (let q = 0; q < 3; q++) {
      const vector = randomVector(random, DIM);
      const r = await node(via).call(
        "POST",
        "/v1/collections/docs/query",
        { vector, limit: 10, exact: true },
        readHeaders(),
      );
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(
        (r.json.hits as { id: string }[]).map((h) => h.id),
        bruteTopK("dot", state, vector, 10).map((h) => h.id),
      );
    }
  };

  before(async () => {
    [etcd, s3] = await Promise.all([EtcdMember.start(), S3Stand.start()]);
    settings = {
      etcd: etcd.endpoint,
      s3,
      etcdPrefix: `t${Date.now()}/`,
      shards: SHARDS,
      replicas: 2,
      leaseMs: LEASE_MS,
    };
    for (const [id, n] of await Promise.all(
      ["n1", "n2", "n3"].map(async (id) => [id, await QuiverNode.start(id, settings)] as const),
    ))
      nodes.set(id, n);
  });

  after(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop("SIGKILL")));
    await Promise.all([etcd?.stop(), s3?.stop()]);
  });

  it("any node takes writes and reads; a key made on one node works on the others; minSeq reads see the write", async () => {
    const created = await node("n1").call("PUT", "/v1/collections/docs", {
      schema: { vectors: { v: { dim: DIM, metric: "dot" } } },
    });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const bad = await node("n2").call("POST", "/v1/collections/docs/upsert", { records: [{ id: "x", vector: [1] }] });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json.problems), /records\[0\]/);
    for (const via of ["n1", "n2", "n3"]) assert.ok(await write(via, Array.from({ length: 20 }, nextRecord)));
    for (const via of ["n3", "n1", "n2"]) await check(via);
    const key = await node("n2").call("POST", "/v1/keys", { scope: "read", collections: ["docs"] });
    assert.equal(key.status, 201);
    const asReader = await fetch(`${node("n3").url}/v1/collections/docs/count`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.json.key}`, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(asReader.status, 200, "a key created on n2 is accepted by n3");
    // Usage is counted where it is served and added up in etcd: n1, which served none of the
    // reader's requests, answers its cluster-wide usage within two flush periods (5 s each).
    const readerUsage = async () => {
      const usage = await node("n1").call("GET", "/v1/usage");
      const keys = usage.json.keys as { key: string; total: { requests: number; readUnits: number } }[];
      return keys.find((k) => k.key === key.json.id)?.total;
    };
    const until = Date.now() + 15_000;
    while (!(await readerUsage()) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 250));
    const seen = await readerUsage();
    assert.equal(seen?.requests, 1, "n3's count request, seen on n1");
    assert.ok((seen?.readUnits ?? 0) >= 1);
    const mcp = new Client({ name: "cluster-test", version: "1.0.0" });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${node("n3").url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
      }),
    );
    const found = (await mcp.callTool({
      name: "search",
      arguments: { collection: "docs", vector: acked.get("p0")?.vector, limit: 1 },
    })) as { content: { text: string }[] };
    const best = bruteTopK("dot", acked.values(), acked.get("p0")?.vector as number[], 1)[0].id;
    assert.equal(JSON.parse(found.content[0].text).hits[0].id, best, "MCP tools work on the cluster");
    await mcp.close();
    const malformed = await node("n1").call("POST", "/v1/collections/docs/count", {}, { "quiver-min-seq": "[1]" });
    assert.equal(malformed.status, 400);
    assert.match(JSON.stringify(malformed.json), /Quiver-Min-Seq/);
  });

  it("a text query over three shards has one node's ids, order and scores (global BM25 statistics)", async () => {
    const schema = { vectors: { v: { dim: DIM, metric: "dot" } }, text: { note: { analyzer: "english" } } };
    assert.equal((await node("n1").call("PUT", "/v1/collections/notes", { schema })).status, 200);
    const words = ["shard", "writer", "lease", "etcd", "replica", "merge", "scores", "fencing", "batches"];
    const records = Array.from({ length: 40 }, (_, i) => ({
      id: `n${String(i).padStart(2, "0")}`,
      vector: randomVector(random, DIM).map(Math.fround),
      payload: { note: Array.from({ length: 3 + (i % 7) }, (_, j) => words[(i * j + i) % words.length]).join(" ") },
    }));
    const ack = await node("n1").call("POST", "/v1/collections/notes/upsert", { records });
    assert.equal(ack.status, 200, JSON.stringify(ack.json));
    const one = await open();
    try {
      const notes = await one.createCollection("notes", schema as never);
      await notes.upsert(records);
      const req = { text: "lease writer fencing", limit: 12 };
      const got = await node("n2").call("POST", "/v1/collections/notes/query", req, {
        "quiver-min-seq": JSON.stringify(ack.json.seqs),
      });
      assert.equal(got.status, 200, JSON.stringify(got.json));
      const want = (await notes.query(req)).hits.map((h) => [h.id, h.score]);
      assert.ok(want.length > 3);
      assert.deepEqual(
        (got.json.hits as { id: string; score: number }[]).map((h) => [h.id, h.score]),
        want,
      );
    } finally {
      await one.close();
    }
  });

  it("a writer killed with SIGKILL: its shards move within a lease period, later writes succeed, nothing acknowledged is lost", async () => {
    const coordinator = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix: settings.etcdPrefix });
    try {
      const log = shardLog({ name: "docs", generation: 1 }, 0);
      const owner = await coordinator.owner(log);
      assert.ok(owner, "shard 0 has a writer");
      const victim = owner.holder;
      const others = ["n1", "n2", "n3"].filter((id) => id !== victim);
      // Writes keep coming through the other nodes while the writer dies.
      let stop = false;
      const writer = (async () => {
        let ok = 0;
        while (!stop) if (await write(others[ok % 2], Array.from({ length: 5 }, nextRecord))) ok++;
        return ok;
      })();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const killedAt = Date.now();
      await node(victim).stop("SIGKILL");
      let movedAfter = 0;
      for (;;) {
        const now = await coordinator.owner(log);
        if (now && now.holder !== victim) {
          movedAfter = Date.now() - killedAt;
          assert.ok(now.epoch > owner.epoch, "the new writer holds a higher epoch");
          break;
        }
        assert.ok(Date.now() - killedAt < LEASE_MS * 4, "the shard moved within a few lease periods");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      stop = true;
      const writes = await writer;
      assert.ok(writes >= 1, `${writes} acknowledged writes during the failover`);
      assert.ok(await write(others[0], Array.from({ length: 10 }, nextRecord)), "a write after the move succeeds");
      process.stdout.write(
        `# shard 0 moved from ${victim} ${movedAfter} ms after SIGKILL; ${acked.size} acknowledged\n`,
      );
      for (const via of others) await check(via);
      nodes.delete(victim);
      nodes.set(victim, await QuiverNode.start(victim, settings));
    } finally {
      coordinator.close();
    }
  });

  it("a query node joining and then leaving fails no query", async () => {
    let failures: string[] = [];
    let queries = 0;
    let stop = false;
    const reader = (async () => {
      while (!stop) {
        const r = await node("n1").call(
          "POST",
          "/v1/collections/docs/query",
          { vector: [1, 0, 0, 0, 0, 0], limit: 5 },
          readHeaders(),
        );
        if (r.status !== 200) failures.push(JSON.stringify(r.json));
        queries++;
      }
    })();
    nodes.set("q4", await QuiverNode.start("q4", settings, "query"));
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS * 1.5));
    // q4 ranks first for shards 0 and 1 (rendezvous over n1-n3 and q4): it must have taken them.
    const coordinator = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix: settings.etcdPrefix });
    const secret = (await coordinator.get("cluster/secret"))?.value;
    coordinator.close();
    const status = await fetch(`${node("q4").url}/_cluster/v1/status`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}` },
      body: "{}",
    });
    const serves = ((await status.json()) as { serves: { log: string; ready: boolean }[] }).serves;
    const ready = serves.filter((s) => s.ready).map((s) => s.log);
    for (const log of ["shards/docs/1/0", "shards/docs/1/1"])
      assert.ok(ready.includes(log), `q4 serves ${log}: ${ready}`);
    await node("q4").stop("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
    stop = true;
    await reader;
    assert.deepEqual(failures, []);
    assert.ok(queries > 10, `${queries} queries during the moves`);
    failures = [];
    await check("n2");
  });
});
