/**
 * The `workerd test` handler for the example: calls the Quiver worker through its service binding
 * (a real HTTP exchange inside workerd) and throws on any wrong answer, which fails the run.
 * Create a collection with an HNSW vector and a text field, upsert, query by vector, text and both.
 */
const KEY = "workerd-example-admin-key-0123";

/** @param {{ QUIVER: { fetch(url: string, init?: RequestInit): Promise<Response> } }} env */
async function call(env, method, path, body) {
  const res = await env.QUIVER.fetch(`http://quiver${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

function expect(what, actual, expected) {
  const a = JSON.stringify(actual);
  if (a !== JSON.stringify(expected)) throw new Error(`${what}: got ${a}, expected ${JSON.stringify(expected)}`);
  console.log(`ok ${what}: ${a}`);
}

export default {
  async test(_controller, env) {
    await call(env, "PUT", "/v1/collections/docs", {
      schema: { vectors: { v: { dim: 3, metric: "cosine", index: { type: "hnsw" } } }, text: { body: {} } },
    });
    await call(env, "POST", "/v1/collections/docs/upsert", {
      records: [
        { id: "a", vector: [1, 0, 0], payload: { body: "lighthouse keeper" } },
        { id: "b", vector: [0, 1, 0], payload: { body: "harbour master" } },
        { id: "c", vector: [0.7, 0.7, 0], payload: { body: "lighthouse harbour" } },
      ],
    });
    const byVector = await call(env, "POST", "/v1/collections/docs/query", { vector: [0.1, 0.9, 0], limit: 2 });
    expect(
      "vector query",
      byVector.hits.map((h) => h.id),
      ["b", "c"],
    );
    // The modules came in precompiled: SIMD kernels and a real graph, no exact fallback.
    expect("vector plan", [byVector.plan.strategy, byVector.plan.hnswUnavailable ?? null], ["hnsw", null]);
    const byText = await call(env, "POST", "/v1/collections/docs/query", { text: "lighthouse", limit: 3 });
    expect("text query", byText.hits.map((h) => h.id).sort(), ["a", "c"]);
    const hybrid = await call(env, "POST", "/v1/collections/docs/query", {
      vector: [1, 0.1, 0],
      text: "lighthouse",
      limit: 1,
    });
    expect(
      "hybrid query",
      hybrid.hits.map((h) => h.id),
      ["a"],
    );
    const stats = await call(env, "GET", "/v1/stats");
    expect("kernels", stats.kernels, "wasm-simd");
    const anonymous = await env.QUIVER.fetch("http://quiver/v1/collections");
    expect("no key", anonymous.status, 401);
  },
};
