/**
 * `quiver mcp`: the tools over stdio. stdout carries the protocol only, so every log line goes to
 * stderr; the server runs until the client closes stdin, then resolves.
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { DatabaseApi } from "../api/types.js";
import { createMcpServer, type McpToolOptions } from "./tools.js";

export async function serveStdio(db: DatabaseApi, options: McpToolOptions = {}): Promise<void> {
  const server = createMcpServer(db, options);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    process.stdin.on("end", () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
}
