/**
 * `quiver stats`: what the database holds: each collection's count, schema, vector memory and
 * segments, plus the distance kernels in use and the WAL size. Table by default, JSON with --json.
 */
import { Command } from "commander";
import type { CollectionSchema } from "../../index.js";
import { formatBytes, table, type CliContext } from "../output.js";

function describeSchema(schema: CollectionSchema): { vectors: string; indexes: string } {
  const vectors = Object.entries(schema.vectors).map(([name, v]) =>
    v.kind === "sparse" ? `${name}(sparse)` : `${name}(${v.dim}, ${v.metric})`,
  );
  const indexes = Object.entries(schema.indexes ?? {}).map(([path, type]) => `${path}:${type}`);
  return { vectors: vectors.join(" "), indexes: indexes.join(" ") || "-" };
}

export function statsCommand(ctx: CliContext): Command {
  return new Command("stats")
    .description("show collections, counts, schemas, memory, segments, kernels and WAL size")
    .option("--json", "print the statistics as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await ctx.withDb(
        cmd,
        async (db) => {
          const stats = await db.stats();
          const infos = await db.listCollections();
          const byName = new Map(stats.collections.map((c) => [c.name, c]));
          const collections = infos.map((info) => ({ ...byName.get(info.name)!, schema: info.schema }));
          const path = cmd.optsWithGlobals().db as string;
          if (opts.json) {
            const out = {
              db: path,
              collections,
              kernels: stats.kernels,
              walBytes: stats.walBytes,
              seq: stats.seq,
              lastCheckpointSeq: stats.lastCheckpointSeq,
            };
            process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
            return;
          }
          process.stdout.write(`database ${path}\n\n`);
          if (collections.length === 0) process.stdout.write("(no collections)\n");
          else {
            const rows = collections.map((c) => {
              const s = describeSchema(c.schema);
              return [
                c.name,
                c.count.toLocaleString("en-US"),
                formatBytes(c.vectorBytes),
                c.vectorDiskBytes > 0 ? formatBytes(c.vectorDiskBytes) : "-",
                String(c.segments),
                s.indexes,
                s.vectors,
              ];
            });
            process.stdout.write(
              table(
                ["collection", "records", "vector memory", "vectors on disk", "segments", "indexes", "vectors"],
                rows,
              ),
            );
            // Per vector: the full vector, vector data held in memory and on disk (originals: "disk"),
            // what a graph search reads per comparison, and links.
            const vrows = collections.flatMap((c) =>
              c.vectors.map((v) => {
                const b = v.bytesPerVector;
                return [
                  c.name,
                  v.name,
                  v.index + (v.quantization ? ` (${v.quantization})` : ""),
                  v.count.toLocaleString("en-US"),
                  `${b.full} B`,
                  `${b.resident} B`,
                  v.originals === "disk" ? `${b.onDisk} B` : "-",
                  `${b.traversal} B`,
                  `${b.links} B`,
                ];
              }),
            );
            process.stdout.write(
              "\n" +
                table(
                  [
                    "collection",
                    "vector",
                    "index",
                    "vectors",
                    "f32/vector",
                    "in memory/vector",
                    "on disk/vector",
                    "read/comparison",
                    "links/vector",
                  ],
                  vrows,
                ),
            );
            for (const c of collections)
              for (const v of c.vectors) if (v.note) process.stdout.write(`note: ${c.name}.${v.name}: ${v.note}\n`);
          }
          process.stdout.write(`\nkernels: ${stats.kernels}\n`);
          process.stdout.write(
            `WAL: ${formatBytes(stats.walBytes)} (sequence ${stats.seq}, last checkpoint at ${stats.lastCheckpointSeq})\n`,
          );
        },
        { readOnly: true },
      );
    });
}
