/**
 * The same tools over MCP streamable HTTP, as a web-standard `fetch(Request) => Response` handler
 * (stateless: one server and transport per request, so no session state lives in the process).
 * `quiver serve` mounts it at /mcp after checking the API key, and passes the key's scopes as
 * `authorize`.
 */
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { DatabaseApi } from "../api/types.js";
import { createMcpServer, type McpToolOptions } from "./tools.js";

/**
 * @example
 * const mcp = mcpHttpHandler(db, { authorize: ({ collection, write }) => checkScope(principal, collection, write) });
 * if (url.pathname === "/mcp") return mcp(request);
 */
export function mcpHttpHandler(
  db: DatabaseApi,
  options: McpToolOptions = {},
): (request: Request, opts?: McpToolOptions) => Promise<Response> {
  return async (request, perRequest) => {
    const server = createMcpServer(db, { ...options, ...perRequest });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      return await transport.handleRequest(request);
    } finally {
      // With JSON responses the answer is complete when handleRequest resolves.
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    }
  };
}
