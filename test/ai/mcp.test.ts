/**
 * The MCP server as an agent sees it: a client of the official SDK starts `quiver mcp` over stdio,
 * lists the tools and calls each one (with the real local model); bad calls are tool errors and
 * the server keeps serving.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");

function json(r: unknown): Record<string, unknown> {
  const content = (r as { content: { type: string; text: string }[] }).content;
  return JSON.parse(content[0].text) as Record<string, unknown>;
}

test("an MCP client lists the tools and calls each over stdio", async () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-mcp-"));
  const client = new Client({ name: "quiver-test", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MAIN, "mcp", "--db", join(dir, "db")],
    stderr: "pipe",
  });
  try {
    await client.connect(transport);
    // The version announced is the package's, read from its package.json.
    const pkg = JSON.parse(readFileSync(join(dirname(MAIN), "..", "..", "..", "package.json"), "utf8")) as {
      version: string;
    };
    assert.deepEqual(client.getServerVersion(), { name: "quiver", version: pkg.version });
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      "forget",
      "ingest",
      "list_collections",
      "recall",
      "remember",
      "search",
    ]);

    const ingest = json(
      await client.callTool({
        name: "ingest",
        arguments: {
          collection: "kb",
          documents: [
            { id: "tea", text: "# Tea\n\nGreen tea should steep for two minutes in water at 80 degrees." },
            { id: "bikes", text: "# Bicycles\n\nPump the tyres to the pressure written on their sidewall." },
          ],
        },
      }),
    );
    assert.equal(ingest.chunks, 2);
    const search = json(
      await client.callTool({
        name: "search",
        arguments: { collection: "kb", query: "how long to brew green tea", limit: 1 },
      }),
    );
    // A collection the ingest tool made indexes chunk text for BM25 too: questions run hybrid, and
    // come back as documents with their best chunks' positions to cite.
    assert.equal(search.mode, "hybrid");
    const [tea] = search.documents as { documentId: string; chunks: { payload: Record<string, unknown> }[] }[];
    assert.equal(tea.documentId, "tea");
    assert.deepEqual(tea.chunks[0].payload.headings, ["Tea"]);
    assert.equal(tea.chunks[0].payload.start, 0);
    assert.ok((tea.chunks[0].payload.end as number) > 0);
    const chunkHits = json(
      await client.callTool({
        name: "search",
        arguments: { collection: "kb", query: "how long to brew green tea", limit: 1, groupByDocument: false },
      }),
    );
    assert.equal((chunkHits.hits as { payload: { documentId: string } }[])[0].payload.documentId, "tea");
    const grouped = json(
      await client.callTool({
        name: "search",
        arguments: {
          collection: "kb",
          query: "tyre pressure",
          groupByDocument: true,
          filter: { documentId: { $in: ["tea", "bikes"] } },
        },
      }),
    );
    assert.equal((grouped.documents as { documentId: string }[])[0].documentId, "bikes");

    const remembered = json(
      await client.callTool({
        name: "remember",
        arguments: { text: "The user is allergic to peanuts.", session: "s1", ttlSeconds: 3600 },
      }),
    );
    assert.equal(remembered.merged, false);
    const recall = json(
      await client.callTool({ name: "recall", arguments: { query: "food allergies", session: "s1" } }),
    );
    assert.equal((recall.memories as { text: string }[])[0].text, "The user is allergic to peanuts.");
    const list = json(await client.callTool({ name: "list_collections", arguments: {} }));
    assert.deepEqual(
      (list.collections as { name: string }[]).map((c) => c.name),
      ["kb", "memory"],
    );
    const forgot = json(await client.callTool({ name: "forget", arguments: { id: remembered.id as string } }));
    assert.equal(forgot.deleted, 1);

    // Errors are tool results, and the server stays up.
    const missing = await client.callTool({ name: "search", arguments: { collection: "nope", query: "x" } });
    assert.equal(missing.isError, true);
    assert.match((missing.content as { text: string }[])[0].text, /^NOT_FOUND: collection "nope" does not exist/);
    const badFilter = await client.callTool({
      name: "search",
      arguments: { collection: "kb", query: "x", filter: { a: { $regex: "x" } } },
    });
    assert.match((badFilter.content as { text: string }[])[0].text, /^INVALID_FILTER/);
    const noText = await client.callTool({ name: "remember", arguments: { text: "" } });
    assert.equal(noText.isError, true);
    assert.equal((await client.listTools()).tools.length, 6);
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
