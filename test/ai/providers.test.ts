/**
 * The hosted providers against a local HTTP server that speaks their protocols, answering from
 * recorded request/response fixtures: success, batching, rate limits (429 + Retry-After), server
 * errors, bad keys; plus the managed layer's cache and de-duplication.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { managedEmbedder } from "../../src/embed/managed.js";
import { openAIEmbedder } from "../../src/embed/openai.js";
import { ollamaEmbedder } from "../../src/embed/ollama.js";
import { isQuiverError } from "../../src/core/errors/errors.js";

/** Recorded shapes (trimmed vectors) of OpenAI's /v1/embeddings and Ollama's /api/embed. */
const FIXTURES = {
  openaiOk: (inputs: string[]) => ({
    object: "list",
    data: inputs.map((t, index) => ({ object: "embedding", index, embedding: [t.length, 1, 0.5] })),
    model: "text-embedding-3-small",
    usage: { prompt_tokens: 8, total_tokens: 8 },
  }),
  openai429: {
    error: {
      message:
        "Rate limit reached for text-embedding-3-small in organization org-x on requests per min (RPM): Limit 3000.",
      type: "requests",
      param: null,
      code: "rate_limit_exceeded",
    },
  },
  openai401: {
    error: {
      message:
        "Incorrect API key provided: sk-bad. You can find your API key at https://platform.openai.com/account/api-keys.",
      type: "invalid_request_error",
      param: null,
      code: "invalid_api_key",
    },
  },
  openai500: {
    error: {
      message: "The server had an error while processing your request. Sorry about that!",
      type: "server_error",
      param: null,
      code: null,
    },
  },
  ollamaOk: (inputs: string[]) => ({
    model: "nomic-embed-text",
    embeddings: inputs.map((t) => [t.length, 2, 0]),
    total_duration: 14143917,
    load_duration: 1019500,
    prompt_eval_count: 8,
  }),
};

interface Seen {
  path: string;
  auth: string | undefined;
  body: { model: string; input: string[] };
}

let server: Server;
let base: string;
const seen: Seen[] = [];
/** Scripted failures, consumed in order before normal answers. */
let script: { status: number; body: unknown; headers?: Record<string, string> }[] = [];

before(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const body = JSON.parse(raw) as Seen["body"];
      seen.push({ path: req.url!, auth: req.headers.authorization, body });
      const next = script.shift();
      if (next) {
        res.writeHead(next.status, { "content-type": "application/json", ...next.headers });
        res.end(JSON.stringify(next.body));
        return;
      }
      if (req.headers.authorization === "Bearer sk-bad") {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify(FIXTURES.openai401));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(req.url === "/api/embed" ? FIXTURES.ollamaOk(body.input) : FIXTURES.openaiOk(body.input)));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((r) => server.close(() => r())));

test("OpenAI-compatible: request shape, key, vectors in order", async () => {
  seen.length = 0;
  const e = openAIEmbedder({ baseURL: `${base}/v1/`, apiKey: "sk-test", model: "text-embedding-3-small", dim: 3 });
  const out = await e.embed(["a", "bbb"]);
  assert.deepEqual(
    out.map((v) => Array.from(v)),
    [
      [1, 1, 0.5],
      [3, 1, 0.5],
    ],
  );
  assert.equal(seen[0].path, "/v1/embeddings");
  assert.equal(seen[0].auth, "Bearer sk-test");
  assert.deepEqual(seen[0].body.input, ["a", "bbb"]);
  assert.equal(seen[0].body.model, "text-embedding-3-small");
});

test("managed: batches, de-duplicates, caches by content", async () => {
  seen.length = 0;
  const e = managedEmbedder(openAIEmbedder({ baseURL: `${base}/v1`, model: "m", maxBatch: 2 }));
  const out = await e.embed(["x", "yy", "x", "zzz", "wwww"]);
  assert.deepEqual(
    out.map((v) => v[0]),
    [1, 2, 1, 3, 4],
  );
  assert.equal(seen.length, 2, "4 distinct texts in batches of 2");
  await e.embed(["yy", "zzz"]);
  assert.equal(seen.length, 2, "all cached");
  assert.equal(e.stats.calls, 2);
});

test("managed: a 429 with Retry-After and a 500 are retried, then succeed", async () => {
  seen.length = 0;
  script = [
    { status: 429, body: FIXTURES.openai429, headers: { "retry-after": "0.05" } },
    { status: 500, body: FIXTURES.openai500 },
  ];
  const e = managedEmbedder(openAIEmbedder({ baseURL: `${base}/v1`, model: "m" }), { backoffMs: 10, cache: null });
  const t = performance.now();
  const [v] = await e.embed(["retry me"]);
  assert.equal(v[0], 8);
  assert.equal(seen.length, 3);
  assert.equal(e.stats.retries, 2);
  assert.ok(performance.now() - t >= 45, "waited for Retry-After");
});

test("managed: retries give up with EMBEDDING_FAILED naming the cause", async () => {
  script = Array.from({ length: 3 }, () => ({
    status: 429,
    body: FIXTURES.openai429,
    headers: { "retry-after-ms": "5" },
  }));
  const e = managedEmbedder(openAIEmbedder({ baseURL: `${base}/v1`, model: "m" }), {
    retries: 2,
    backoffMs: 1,
    cache: null,
  });
  await assert.rejects(e.embed(["x"]), (err: unknown) => {
    assert.ok(isQuiverError(err, "EMBEDDING_FAILED"));
    assert.match(err.message, /HTTP 429: Rate limit reached/);
    assert.match(err.message, /after 3 attempts/);
    return true;
  });
  script = [];
});

test("a bad key is not retried and says so", async () => {
  seen.length = 0;
  const e = managedEmbedder(openAIEmbedder({ baseURL: `${base}/v1`, apiKey: "sk-bad", model: "m" }), { backoffMs: 1 });
  await assert.rejects(e.embed(["x"]), /HTTP 401: Incorrect API key provided.*check the API key/);
  assert.equal(seen.length, 1);
});

test("a wrong dimension and a dead server are clear errors", async () => {
  const wrongDim = managedEmbedder(openAIEmbedder({ baseURL: `${base}/v1`, model: "m", dim: 8 }), { cache: null });
  await assert.rejects(wrongDim.embed(["x"]), /expected 8 dimensions, the response has 3/);
  const dead = managedEmbedder(openAIEmbedder({ baseURL: "http://127.0.0.1:9/v1", model: "m" }), {
    retries: 1,
    backoffMs: 1,
  });
  await assert.rejects(
    dead.embed(["x"]),
    (e: unknown) => isQuiverError(e, "EMBEDDING_FAILED") && /request to .* failed/.test(e.message),
  );
});

test("Ollama native API", async () => {
  seen.length = 0;
  const e = ollamaEmbedder({ baseURL: base, model: "nomic-embed-text" });
  const out = await e.embed(["abc", "de"]);
  assert.deepEqual(
    out.map((v) => Array.from(v)),
    [
      [3, 2, 0],
      [2, 2, 0],
    ],
  );
  assert.equal(seen[0].path, "/api/embed");
  assert.equal(seen[0].body.model, "nomic-embed-text");
});
