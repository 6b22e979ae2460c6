/**
 * The MCP tools over streamable HTTP on the server (/mcp): an SDK client with an API key lists and
 * calls the tools; without a key it gets 401; a read key limited to one collection sees only that
 * collection and cannot write through the tools (nor is offered them); tools are metered and
 * stopped by quotas like REST routes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { mcpHttpHandler } from "../../src/mcp/http.js";
import { startTestServer, ADMIN_KEY } from "./helpers.js";

function json(r: unknown): Record<string, unknown> {
  return JSON.parse((r as { content: { text: string }[] }).content[0].text) as Record<string, unknown>;
}

async function client(url: string, key: string): Promise<Client> {
  const c = new Client({ name: "quiver-http-test", version: "1.0.0" });
  await c.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return c;
}

test("MCP over HTTP: keys and scopes apply to the tools", async () => {
  const t = await startTestServer({ mcp: (request, db, access) => mcpHttpHandler(db, access)(request) });
  try {
    const kb = await t.db.createCollection("kb", { vectors: { v: { dim: 2, metric: "cosine" } } });
    await kb.upsert([{ id: "a", vector: [1, 0], payload: { text: "alpha" } }]);
    await t.db.createCollection("secret", { vectors: { v: { dim: 2, metric: "cosine" } } });

    const noKey = await fetch(`${t.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    assert.equal(noKey.status, 401);

    const admin = await client(t.url, ADMIN_KEY);
    const names = (await admin.listTools()).tools.map((x) => x.name).sort();
    assert.deepEqual(names, ["forget", "ingest", "list_collections", "recall", "remember", "search"]);
    const all = json(await admin.callTool({ name: "list_collections", arguments: {} }));
    assert.deepEqual(
      (all.collections as { name: string }[]).map((c) => c.name),
      ["kb", "secret"],
    );
    await admin.close();

    const { key } = await t.server.keys.create({ scope: "read", collections: ["kb"] });
    const reader = await client(t.url, key);
    assert.deepEqual(
      (await reader.listTools()).tools.map((x) => x.name).sort(),
      ["list_collections", "recall", "search"],
      "a read key is offered no write tools",
    );
    const visible = json(await reader.callTool({ name: "list_collections", arguments: {} }));
    assert.deepEqual(
      (visible.collections as { name: string }[]).map((c) => c.name),
      ["kb"],
      "collections outside the key's reach are invisible",
    );
    const hit = json(
      await reader.callTool({ name: "search", arguments: { collection: "kb", vector: [1, 0.1], limit: 1 } }),
    );
    assert.equal((hit.hits as { id: string }[])[0].id, "a");
    const hidden = await reader.callTool({ name: "search", arguments: { collection: "secret", vector: [1, 0] } });
    assert.equal(hidden.isError, true);
    assert.match((hidden.content as { text: string }[])[0].text, /^NOT_FOUND/);
    const write = await reader.callTool({
      name: "ingest",
      arguments: { collection: "kb", documents: [{ id: "d", text: "x" }] },
    });
    assert.equal(write.isError, true, "a read key cannot write through the tools");
    assert.match((write.content as { text: string }[])[0].text, /^FORBIDDEN/);
    assert.equal(await kb.count(), 1);
    await reader.close();
  } finally {
    await t.close();
  }
});

test("MCP over HTTP: tool calls are billed like REST and stopped by the key's quota", async () => {
  const t = await startTestServer({
    keepLogs: true,
    mcp: (request, db, access) => mcpHttpHandler(db, access)(request),
  });
  try {
    const kb = await t.db.createCollection("kb", { vectors: { v: { dim: 2, metric: "cosine" } } });
    await kb.upsert([{ id: "a", vector: [1, 0], payload: { text: "alpha" } }]);
    const { key, record } = await t.server.keys.create({ scope: "read", collections: ["kb"], quota: { readUnits: 6 } });
    const rest = await t.call("POST", "/v1/collections/kb/query", { key, body: { vector: [1, 0.1], limit: 5 } });
    const restUnits = Number(rest.headers.get("quiver-read-units"));
    assert.ok(restUnits >= 1);
    const reader = await client(t.url, key);
    let served = 0;
    let refused: unknown = null;
    for (let i = 0; i < 10 && refused === null; i++) {
      try {
        const r = await reader.callTool({ name: "search", arguments: { collection: "kb", vector: [1, 0.1] } });
        if (r.isError) refused = (r.content as { text: string }[])[0].text;
        else served++;
      } catch (e) {
        refused = e;
      }
    }
    await reader.close().catch(() => undefined);
    assert.ok(refused !== null, "the quota stopped the MCP searches");
    assert.ok(served >= 1 && served < 10, `served ${served}`);
    const usage = (await t.call("GET", "/v1/usage", { key })).json.keys[0];
    assert.equal(usage.total.readUnits, restUnits * (1 + served), "each MCP search cost what the REST query did");
    const mcpUnits = t.logs.filter((l) => l.route === "/mcp").reduce((n, l) => n + l.readUnits, 0);
    assert.equal(mcpUnits, restUnits * served, "the request log reports the units of /mcp requests");
    assert.equal(record.id, usage.key);
  } finally {
    await t.close();
  }
});
