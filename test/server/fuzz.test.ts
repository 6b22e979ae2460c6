/**
 * Property-based fuzzing (fast-check) of every route's body over a real server: arbitrary JSON,
 * valid-looking bodies with arbitrary field values, and raw bytes. The server must never crash
 * or answer 5xx, and every error must be `{code, message, path}`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ROUTES, bodySchemas } from "../../src/server/index.js";
import { DEFAULT_LIMITS } from "../../src/index.js";
import { startTestServer } from "./helpers.js";

const RUNS = process.env.QUIVER_LONG ? 1000 : 120;

test(`fuzzing every route's body (${RUNS} x 3 per route): no crash, no 5xx`, async () => {
  const s = await startTestServer({ dbOptions: { limits: { maxBatch: 200 } } });
  let requests = 0;
  try {
    await s.admin.createCollection("f", {
      vectors: { v: { dim: 3, metric: "cosine" } },
      indexes: { lang: "keyword", n: "number" },
    });
    await (await s.admin.collection("f")).upsert([{ id: "a", vector: [1, 2, 3], payload: { lang: "en", n: 1 } }]);
    await s.admin.createCollection("m", { vectors: { a: { dim: 2, metric: "l2" }, b: { dim: 2, metric: "dot" } } });
    const schemas = bodySchemas(DEFAULT_LIMITS) as unknown as Record<string, { properties: Record<string, unknown> }>;
    const check = async (method: string, path: string, raw: string) => {
      const res = await s.call(method, path, { raw });
      requests++;
      assert.ok(res.status < 500, `${method} ${path} ${raw.slice(0, 300)} -> ${res.status} ${res.text.slice(0, 300)}`);
      if (res.status >= 400) {
        assert.ok(
          res.json &&
            typeof res.json.code === "string" &&
            typeof res.json.message === "string" &&
            typeof res.json.path === "string",
          res.text,
        );
      }
    };
    const json = fc.jsonValue({ maxDepth: 6 });
    const vectorish = fc.oneof(
      fc.array(fc.double(), { maxLength: 5 }),
      fc.array(fc.integer(), { minLength: 2, maxLength: 3 }),
      json,
    );
    for (const route of ROUTES.filter((r) => r.body)) {
      const fields = Object.keys(schemas[route.body!].properties);
      const path = () =>
        fc
          .constantFrom("f", "m", "missing", "f%2Fx", "..", "%E2%9C%93", "a".repeat(80))
          .map((n) => route.path.replace("{name}", n).replace("{id}", n));
      const shaped = fc.record(
        Object.fromEntries(
          fields.map((f) => [
            f,
            f.startsWith("vector") || f === "records"
              ? fc.oneof(
                  vectorish,
                  fc.array(fc.record({ id: fc.string(), vector: vectorish, payload: json }, { requiredKeys: [] }), {
                    maxLength: 4,
                  }),
                )
              : json,
          ]),
        ),
        { requiredKeys: [] },
      );
      const withExtra = fc
        .tuple(shaped, fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 2 }))
        .map(([a, b]) => ({ ...b, ...a }));
      await fc.assert(
        fc.asyncProperty(path(), json, async (p, body) => check(route.method, p, JSON.stringify(body))),
        { numRuns: RUNS },
      );
      await fc.assert(
        fc.asyncProperty(path(), withExtra, async (p, body) => check(route.method, p, JSON.stringify(body))),
        { numRuns: RUNS },
      );
      await fc.assert(
        fc.asyncProperty(path(), fc.string({ unit: "binary", maxLength: 200 }), async (p, raw) =>
          check(route.method, p, raw),
        ),
        { numRuns: RUNS },
      );
    }
    // Still healthy, and nothing invalid was stored in the seeded collection.
    assert.equal((await s.call("GET", "/healthz", { key: null })).status, 200);
    for (const r of (await (await s.admin.collection("f")).scroll({ limit: 200, withVectors: true })).records) {
      // A record may carry no vector (payload only, a valid upsert the fuzzer can produce); one it carries is whole.
      const v = r.vectors?.v as number[] | undefined;
      if (v === undefined) continue;
      assert.equal(v.length, 3);
      assert.ok(v.every(Number.isFinite));
    }
    console.log(`# fuzz: ${requests} requests over ${ROUTES.filter((r) => r.body).length} routes with bodies, 0 5xx`);
  } finally {
    await s.close();
  }
});
