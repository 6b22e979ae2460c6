#!/usr/bin/env node
/**
 * The `quiver` command line: parses arguments with commander, opens the database named by `--db`
 * for one command, and maps failures to exit codes (1 user error, 2 system error).
 */
import { Command } from "commander";
import { open, type OpenDatabase } from "../index.js";
import { closeEmbedders, embeddersFromEnv } from "../embed/node/config.js";
import { demoCommand } from "./commands/demo.js";
import { exportCommand } from "./commands/export.js";
import { importCommand } from "./commands/import.js";
import { queryCommand } from "./commands/query.js";
import { statsCommand } from "./commands/stats.js";
import { evalCommand } from "./commands/eval.js";
import { serveCommand } from "./commands/serve.js";
import { ingestCommand } from "./commands/ingest.js";
import { doctorCommand } from "./commands/doctor.js";
import { mcpCommand } from "./commands/mcp.js";
import { repairCommand } from "./commands/repair.js";
import { collectionsCommand, createCommand, dropCommand } from "./commands/collections.js";
import { reportError, type CliContext } from "./output.js";
import { packageVersion } from "./package-version.js";

const DEFAULT_DB = "./quiver-data";

/**
 * Runs `fn` with the database open and closes it whatever happens, so the writer lock is released
 * and the WAL checkpointed. Ctrl-C aborts `signal` (long commands stop after their current batch),
 * then the database is closed and the process exits 130; a second Ctrl-C exits at once. Commands
 * that only read pass `{ readOnly: true }`: they then work while another process (`quiver serve`)
 * has the database open for writing, and see what it had written when they opened it.
 */
async function withDb<T>(
  cmd: Command,
  fn: (db: OpenDatabase, signal: AbortSignal) => Promise<T>,
  mode: { readOnly?: boolean; threads?: number } = {},
): Promise<T> {
  const path = (cmd.optsWithGlobals().db as string | undefined) ?? DEFAULT_DB;
  // The embedders `serve` and `mcp` load, so a bound vector takes text here too (the local model loads on first use).
  const embedders = embeddersFromEnv();
  const db = await open(path, {
    embedders,
    onWarning: (w) => process.stderr.write(`warning: ${w}\n`),
    // One look is what a command needs: no background refresh.
    ...(mode.readOnly ? { readOnly: true, refreshIntervalMs: 0 } : {}),
    ...(mode.threads ? { threads: mode.threads } : {}),
  });
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write(
      "\ninterrupted: finishing the current batch and closing the database (Ctrl-C again to quit at once)\n",
    );
    interrupt.abort();
  };
  process.on("SIGINT", onSigint);
  let result: T;
  try {
    result = await fn(db, interrupt.signal);
  } catch (e) {
    if (!interrupt.signal.aborted) throw e;
  } finally {
    await db.close();
    await closeEmbedders(embedders);
    process.off("SIGINT", onSigint);
  }
  if (interrupt.signal.aborted) process.exit(130);
  return result!;
}

const EXAMPLES = `
Every command takes --db (the database); --data names a dataset folder (import, query --row, eval).

Examples:
  quiver demo
  quiver collections
  quiver import docs --jsonl records.jsonl            # one {id, vector, payload} per line; dim from the first
  quiver query docs --vector '[0.1, ...]' --filter '{"lang":"en","year":{"$gte":2020}}' --json
  quiver ingest handbook ./handbook
  quiver query handbook --text "how do I reset my password?" --mode hybrid --limit 5
  quiver export docs --out docs.jsonl
  quiver create notes --schema schema.json
  quiver drop notes --yes
  quiver stats --db ./quiver-data
  quiver serve --db ./quiver-data
  quiver repair ./quiver-data
  quiver import vectors --data DATASET_DIR --limit 20000   # meta.json + base.f32
  quiver eval ir --data IR_DIR --mode all`;

function buildProgram(): Command {
  const ctx: CliContext = { withDb };
  const program = new Command()
    .name("quiver")
    .description("Quiver vector database: import, query, inspect and export collections.")
    .version(packageVersion())
    .option("--db <path>", "database directory", DEFAULT_DB)
    .addHelpText("after", EXAMPLES)
    .showHelpAfterError("(run with --help for usage)");
  program.addCommand(importCommand(ctx));
  program.addCommand(queryCommand(ctx));
  program.addCommand(statsCommand(ctx));
  program.addCommand(collectionsCommand(ctx));
  program.addCommand(createCommand(ctx));
  program.addCommand(dropCommand(ctx));
  program.addCommand(exportCommand(ctx));
  program.addCommand(demoCommand(ctx));
  program.addCommand(evalCommand());
  program.addCommand(serveCommand());
  program.addCommand(ingestCommand(ctx));
  program.addCommand(doctorCommand(ctx));
  program.addCommand(mcpCommand());
  program.addCommand(repairCommand());
  return program;
}

async function main(): Promise<void> {
  // A reader that goes away (`quiver export x | head`) must not crash the process before the database is closed.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") process.stderr.write(`error writing output: ${e.message}\n`);
  });
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

await main();
