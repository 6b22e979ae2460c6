/**
 * `quiver export`: writes every record of a collection as JSONL ({id, vectors, payload} per line,
 * in id order) to a file with a progress bar, or to stdout; `import --jsonl` reads it back.
 */
import { createWriteStream, renameSync, rmSync } from "node:fs";
import { once } from "node:events";
import type { Writable } from "node:stream";
import { Command } from "commander";
import type { Collection } from "../../index.js";
import { progressBar, summaryLine, type CliContext } from "../output.js";

const PAGE = 1000;

/** Writes respecting backpressure, so a large export never buffers the whole collection. */
async function write(out: Writable, text: string): Promise<void> {
  if (out.write(text) || out.destroyed) return;
  await new Promise<void>((resolve, reject) => {
    const done = (e?: Error) => {
      out.off("drain", done).off("close", done).off("error", done);
      if (e) reject(e);
      else resolve();
    };
    out.on("drain", done).on("close", done).on("error", done);
  });
}

async function exportTo(
  coll: Collection,
  out: Writable,
  signal: AbortSignal,
  onPage: (n: number) => void,
): Promise<number> {
  let cursor: string | undefined;
  let n = 0;
  for (;;) {
    signal.throwIfAborted();
    const page = await coll.scroll({ cursor, limit: PAGE, withVectors: true, withPayload: true });
    let text = "";
    for (const r of page.records) text += `${JSON.stringify({ id: r.id, vectors: r.vectors, payload: r.payload })}\n`;
    if (text) await write(out, text);
    n += page.records.length;
    onPage(page.records.length);
    // A closed stdout (e.g. `| head`) ends the export quietly, like other Unix tools.
    if (page.nextCursor === null || out.destroyed) return n;
    cursor = page.nextCursor;
  }
}

export function exportCommand(ctx: CliContext): Command {
  return new Command("export")
    .description("write every record of a collection as JSONL (re-importable with import --jsonl)")
    .argument("<collection>", "collection to export")
    .option("--out <file>", "write to this file instead of stdout")
    .action(async (name: string, opts: { out?: string }, cmd: Command) => {
      await ctx.withDb(
        cmd,
        async (db, signal) => {
          const coll = await db.collection(name);
          const started = performance.now();
          if (opts.out === undefined) {
            await exportTo(coll, process.stdout, signal, () => undefined).catch((e: NodeJS.ErrnoException) => {
              if (e.code !== "EPIPE") throw e;
            });
            return;
          }
          // Write beside the target and rename at the end, so a failed export never leaves a partial file under its name.
          const tmp = `${opts.out}.partial`;
          const file = createWriteStream(tmp);
          await once(file, "open");
          const bar = progressBar(`exporting ${name}`, await coll.count());
          let n: number;
          try {
            n = await exportTo(coll, file, signal, (k) => bar.increment(k));
            file.end();
            await once(file, "finish");
            renameSync(tmp, opts.out);
          } catch (e) {
            file.destroy();
            rmSync(tmp, { force: true });
            throw e;
          } finally {
            bar.stop();
          }
          process.stdout.write(`${summaryLine("exported", n, performance.now() - started)} to ${opts.out}\n`);
        },
        { readOnly: true },
      );
    });
}
