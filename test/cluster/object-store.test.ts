/**
 * Runs the ObjectStore conformance suite against a directory in memory, a directory on disk and S3
 * (s3rver on loopback), then the S3 adapter's behaviour in an outage: UNAVAILABLE while the server is
 * stopped, the same calls succeeding once it is back.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DirectoryObjectStore } from "../../src/cluster/object-store.js";
import { S3ObjectStore } from "../../src/cluster/s3/s3-object-store.js";
import { isQuiverError } from "../../src/core/errors/errors.js";
import { NodeDirectory } from "../../src/node/fs-directory.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { S3Stand } from "../support/cluster-services.js";
import { objectStoreConformance } from "./object-store-conformance.js";

const temps: string[] = [];
let s3: S3Stand;
const clients: S3ObjectStore[] = [];
let runs = 0;
before(async () => {
  s3 = await S3Stand.start();
});
after(async () => {
  for (const client of clients) client.close();
  await s3.stop();
  for (const t of temps) await rm(t, { recursive: true, force: true });
});

const s3Store = (options: { maxAttempts?: number; requestTimeoutMs?: number } = {}): S3ObjectStore => {
  const store = new S3ObjectStore({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    credentials: s3.credentials,
    prefix: `run${++runs}/`,
    ...options,
  });
  clients.push(store);
  return store;
};

objectStoreConformance("directory in memory", async () => new DirectoryObjectStore(new MemoryDirectory()));
objectStoreConformance("directory on disk", async () => {
  const path = await mkdtemp(join(tmpdir(), "quiver-objects-"));
  temps.push(path);
  return new DirectoryObjectStore(await NodeDirectory.open(path));
});
objectStoreConformance("S3 (s3rver)", async () => s3Store());

describe("S3ObjectStore when the service is down", () => {
  it("fails every call with UNAVAILABLE while stopped, and succeeds once it is back, data intact", async () => {
    const store = s3Store({ maxAttempts: 1, requestTimeoutMs: 2000 });
    const before = new TextEncoder().encode("written before the outage");
    await store.put("outage/before", before);
    await s3.halt();
    try {
      for (const call of [
        () => store.put("outage/during", new Uint8Array([1])),
        () => store.get("outage/before"),
        () => store.list("outage/"),
        () => store.delete("outage/before"),
      ])
        await assert.rejects(call(), (e) => {
          assert.ok(isQuiverError(e, "UNAVAILABLE"), `expected UNAVAILABLE, got ${String(e)}`);
          assert.match((e as Error).message, /object store did not answer/);
          return true;
        });
    } finally {
      await s3.restart();
    }
    assert.deepEqual(await store.get("outage/before"), before);
    await store.put("outage/after", new Uint8Array([2]));
    assert.deepEqual(
      (await store.list("outage/")).map((o) => o.key),
      ["outage/after", "outage/before"],
    );
  });

  it("a missing bucket is IO with the service's reason, not UNAVAILABLE", async () => {
    const store = new S3ObjectStore({ endpoint: s3.endpoint, bucket: "no-such-bucket", credentials: s3.credentials });
    clients.push(store);
    await assert.rejects(store.put("k", new Uint8Array([1])), (e) => isQuiverError(e, "IO"));
  });
});
