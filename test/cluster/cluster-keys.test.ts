/**
 * API keys kept in the cluster's Catalog (src/cluster/serve/catalog-key-file.ts): a key created
 * through one node's KeyStore works on another's, a revocation reaches the other node, two nodes
 * creating keys at the same moment keep both (compare-and-set), and two nodes generating the admin
 * key at first start agree on one.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { LocalCoordinator } from "../../src/cluster/local-coordinator.js";
import { catalogKeyFile } from "../../src/cluster/serve/catalog-key-file.js";
import { KeyStore } from "../../src/server/keys.js";

it("a key created on one node authenticates on another, and its revocation reaches it", async () => {
  const catalog = new LocalCoordinator();
  const { store: a, generatedAdminKey } = await KeyStore.open(catalogKeyFile(catalog));
  const { store: b, generatedAdminKey: second } = await KeyStore.open(catalogKeyFile(catalog));
  assert.ok(generatedAdminKey);
  assert.equal(second, undefined, "the second node finds the first one's admin key");
  assert.equal((await b.authenticate(generatedAdminKey))?.scope, "admin");
  await new Promise((resolve) => setTimeout(resolve, 150));
  const { key, record } = await a.create({ scope: "read", collections: ["docs"] });
  assert.equal((await b.authenticate(key))?.id, record.id, "an unknown key makes the other node read the catalog");
  await b.revoke(record.id);
  assert.equal(await b.authenticate(key), null);
  await new Promise((resolve) => setTimeout(resolve, 2100));
  assert.equal(await a.authenticate(key), null, "the revocation reaches the first node within its reload period");
});

it("two nodes creating keys at once keep both; two first starts agree on one admin key", async () => {
  const catalog = new LocalCoordinator();
  const [x, y] = await Promise.all([KeyStore.open(catalogKeyFile(catalog)), KeyStore.open(catalogKeyFile(catalog))]);
  const admins = [x.generatedAdminKey, y.generatedAdminKey].filter(Boolean);
  assert.equal(admins.length, 1, "one admin key is generated and shown");
  const [k1, k2] = await Promise.all([
    x.store.create({ scope: "write", prefix: "" }),
    y.store.create({ scope: "read", prefix: "t-" }),
  ]);
  const { store: z } = await KeyStore.open(catalogKeyFile(catalog));
  assert.deepEqual(
    z
      .list()
      .map((k) => k.id)
      .sort(),
    [k1.record.id, k2.record.id].sort(),
  );
  assert.ok(await z.authenticate(k1.key));
  assert.ok(await z.authenticate(k2.key));
  assert.equal((await z.authenticate(admins[0] as string))?.scope, "admin");
});
