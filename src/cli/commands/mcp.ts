/**
 * `quiver mcp [--db DIR]`: an MCP server over stdio for agents (search, remember, recall,
 * forget, ingest, list_collections). stdout is the protocol channel: all messages go to stderr.
 */
import { Command } from "commander";
import { open } from "../../index.js";
import { embeddersFromEnv, imageEmbeddersFromEnv } from "../../embed/node/config.js";
import { intOption, servedDatabase } from "../output.js";
import { packageVersion } from "../package-version.js";

interface McpCliOptions {
  data?: string;
  embedder: string;
  dim?: number;
  memory: string;
}

export function mcpCommand(): Command {
  return new Command("mcp")
    .description("serve the database to agents over the Model Context Protocol (stdio)")
    .option("--data <dir>", "deprecated: use --db")
    .option("--embedder <name>", "embedder for the collections the tools create: local, openai or ollama", "local")
    .option("--dim <n>", "its dimension (default: the embedder's)", intOption(1))
    .option("--memory <collection>", "collection for remember / recall / forget", "memory")
    .action(async (opts: McpCliOptions, cmd: Command) => {
      const dir = servedDatabase(cmd, opts.data);
      const embedders = embeddersFromEnv();
      const db = await open(dir, {
        embedders,
        // One query's picture at a time: one worker thread (one copy of the offline network, about 250 MB).
        imageEmbedders: imageEmbeddersFromEnv(process.env, 1),
        onWarning: (w) => process.stderr.write(`warning: ${w}\n`),
      });
      const dim = opts.dim ?? embedders[opts.embedder]?.dim ?? 512;
      process.stderr.write(
        `quiver mcp: serving ${dir} over stdio (embedder ${opts.embedder}, memory collection "${opts.memory}")\n`,
      );
      const stop = async () => {
        await db.close().catch(() => undefined);
        process.exit(0);
      };
      process.on("SIGINT", () => void stop());
      process.on("SIGTERM", () => void stop());
      // Loaded here so other commands never pay for the MCP SDK.
      const { serveStdio } = await import("../../mcp/stdio.js");
      try {
        await serveStdio(db, {
          embedder: opts.embedder,
          dim,
          memoryCollection: opts.memory,
          version: packageVersion(),
        });
      } finally {
        await db.close();
      }
    });
}
