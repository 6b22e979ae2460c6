/**
 * Cross-tenant isolation over a real server: randomized attempts by tenant keys on every
 * collection route, on other tenants' collections (existing or not), must leak nothing: the answer
 * for a collection outside a key's reach is the same 404 whether it exists or not, listings show
 * only the key's own collections, and no other tenant's data ever changes or appears.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ROUTES } from "../../src/server/index.js";
import { rng } from "../support/brute.js";
import { startTestServer } from "./helpers.js";

const ATTEMPTS = process.env.QUIVER_LONG ? 10_000 : 1_200;
const TENANTS = ["acme-", "globex-", "initech-"];

test(`${ATTEMPTS} randomized cross-tenant attempts leak nothing`, async () => {
  const s = await startTestServer();
  try {
    const r = rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const keys: { tenant: string; key: string; scope: string }[] = [];
    const secretOf = new Map<string, string>();
    for (const tenant of TENANTS) {
      for (const name of ["docs", "chat"]) {
        const coll = await s.admin.createCollection(tenant + name, {
          vectors: { v: { dim: 3, metric: "cosine" } },
          indexes: { owner: "keyword" },
        });
        const secret = `${tenant}SECRET-${Math.floor(r() * 1e9)}`;
        secretOf.set(tenant + name, secret);
        await coll.upsert(
          Array.from({ length: 20 }, (_, i) => ({
            id: `${tenant}${name}-${i}`,
            vector: [1 + i, 2, 3],
            payload: { owner: tenant, secret },
          })),
        );
      }
      for (const scope of ["read", "write", "admin"] as const) {
        if (scope === "admin") continue;
        const created = await s.call("POST", "/v1/keys", {
          body: { scope, prefix: tenant, name: `${tenant}${scope}` },
        });
        keys.push({ tenant, key: created.json.key, scope });
      }
      const named = await s.call("POST", "/v1/keys", { body: { scope: "write", collections: [`${tenant}docs`] } });
      keys.push({ tenant, key: named.json.key, scope: "write-docs-only" });
    }
    const collectionRoutes = ROUTES.filter((x) => x.requires.kind === "collection");
    const bodies: Record<string, () => unknown> = {
      createCollection: () => ({ schema: { vectors: { v: { dim: 3, metric: "cosine" } } }, ifNotExists: r() < 0.5 }),
      upsert: () => ({
        records: [{ id: `evil-${Math.floor(r() * 100)}`, vector: [r(), r(), 1], payload: { owner: "evil" } }],
      }),
      ids: () => ({ ids: [`acme-docs-${Math.floor(r() * 20)}`, "globex-chat-3"] }),
      get: () => ({
        ids: [`acme-docs-${Math.floor(r() * 20)}`, `initech-chat-${Math.floor(r() * 20)}`],
        withVectors: r() < 0.5,
      }),
      deleteByFilter: () => ({ filter: pick([{ owner: "acme-" }, { owner: { $ne: "x" } }, {}]) }),
      count: () => (r() < 0.5 ? {} : { filter: { owner: pick(TENANTS) } }),
      scroll: () => ({ limit: 50 }),
      query: () => ({
        vector: [r(), r(), r() + 0.1],
        limit: 20,
        filter: r() < 0.3 ? { owner: pick(TENANTS) } : undefined,
      }),
    };
    let attempts = 0;
    let leaks = 0;
    const reference = new Map<string, string>();
    while (attempts < ATTEMPTS) {
      const k = pick(keys);
      const other = pick(TENANTS.filter((t) => t !== k.tenant));
      // Existing collections of another tenant, and names in their namespace that do not exist.
      let target = other + pick(["docs", "chat", "missing", "docs-2"]);
      // A key limited to named collections must not reach its own tenant's other collections either.
      if (k.scope === "write-docs-only" && r() < 0.3) target = `${k.tenant}chat`;
      const route = pick(collectionRoutes);
      const body = route.body ? bodies[route.body]() : undefined;
      const res = await s.call(route.method, route.path.replace("{name}", encodeURIComponent(target)), {
        key: k.key,
        body,
      });
      attempts++;
      // Identical answer whether or not the target exists: 404, the same message, no units.
      const signature = JSON.stringify([
        res.status,
        res.json,
        res.headers.get("quiver-read-units"),
        res.headers.get("quiver-write-units"),
      ]);
      const expected = JSON.stringify([
        404,
        { code: "NOT_FOUND", message: `collection "${target}" does not exist`, path: "", problems: [] },
        "0",
        "0",
      ]);
      if (signature !== expected) leaks++;
      for (const [name, secret] of secretOf)
        if ((name === target || !name.startsWith(k.tenant)) && res.text.includes(secret)) leaks++;
      reference.set(route.path, signature);
      // Now and then: listings through the tenant's key show its own collections only.
      if (attempts % 50 === 0) {
        const list = await s.call("GET", "/v1/collections", { key: k.key });
        attempts++;
        if (list.status !== 200 || list.json.collections.some((c: { name: string }) => !c.name.startsWith(k.tenant)))
          leaks++;
        const usage = await s.call("GET", "/v1/usage", { key: k.key });
        attempts++;
        if (Object.keys(usage.json.keys[0].collections).some((c) => !c.startsWith(k.tenant))) leaks++;
      }
    }
    // Nothing of any tenant changed.
    for (const tenant of TENANTS) {
      for (const name of ["docs", "chat"]) {
        const c = await s.admin.collection(tenant + name);
        assert.equal(await c.count(), 20, `${tenant}${name} untouched`);
        assert.equal(await c.count({ owner: "evil" }), 0);
      }
      assert.deepEqual(
        (await s.admin.listCollections())
          .filter((c) => c.name.startsWith(tenant))
          .map((c) => c.name)
          .sort(),
        [`${tenant}chat`, `${tenant}docs`],
      );
    }
    assert.ok(attempts >= 1000, `${attempts} attempts`);
    assert.equal(leaks, 0, `${leaks} leaks in ${attempts} attempts`);
    console.log(`# cross-tenant: ${attempts} attempts, ${leaks} leaks`);
  } finally {
    await s.close();
  }
});
