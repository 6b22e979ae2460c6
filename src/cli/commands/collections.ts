/**
 * `quiver collections`, `quiver create COLLECTION --schema FILE` and `quiver drop COLLECTION --yes`:
 * list, make and remove collections from the command line. `drop` asks for `--yes` on the command
 * line rather than on stdin, so scripts and CI never hang on a prompt.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { QuiverError, type CollectionSchema } from "../../index.js";
import { badOption, parseJsonOption, table, type CliContext } from "../output.js";

export function collectionsCommand(ctx: CliContext): Command {
  return new Command("collections")
    .description("list the collections with their record counts and vectors")
    .option("--json", "print them as JSON: { collections: [{ name, count, schema }] }")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await ctx.withDb(
        cmd,
        async (db) => {
          const collections = await db.listCollections();
          if (opts.json) {
            process.stdout.write(`${JSON.stringify({ collections }, null, 2)}\n`);
            return;
          }
          if (collections.length === 0) {
            process.stdout.write("no collections (quiver create, import, ingest or demo makes one)\n");
            return;
          }
          const rows = collections.map((c) => [
            c.name,
            c.count.toLocaleString("en-US"),
            Object.entries(c.schema.vectors)
              .map(([name, v]) =>
                v.kind === "sparse"
                  ? `${name}(sparse)`
                  : `${name}(${v.dim}, ${v.metric}${v.embedder ? `, ${v.embedder}` : ""})`,
              )
              .join(" "),
          ]);
          process.stdout.write(table(["collection", "records", "vectors"], rows));
        },
        { readOnly: true },
      );
    });
}

export function createCommand(ctx: CliContext): Command {
  return new Command("create")
    .description("create a collection from a schema file")
    .argument("<collection>", "name of the new collection")
    .requiredOption(
      "--schema <file>",
      'JSON schema, e.g. {"vectors":{"vector":{"dim":384,"metric":"cosine"}},"indexes":{"lang":"keyword"}}',
    )
    .action(async (name: string, opts: { schema: string }, cmd: Command) => {
      let text: string;
      try {
        text = readFileSync(opts.schema, "utf8");
      } catch (e) {
        throw QuiverError.fromProblems("NOT_FOUND", [
          { path: "--schema", message: `cannot read ${opts.schema} (${(e as NodeJS.ErrnoException).code})` },
        ]);
      }
      const schema = parseJsonOption(text, "--schema") as CollectionSchema;
      await ctx.withDb(cmd, async (db) => {
        const coll = await db.createCollection(name, schema);
        const vectors = Object.entries(coll.schema.vectors).map(([v, s]) =>
          s.kind === "sparse" ? `${v}(sparse)` : `${v}(${s.dim}, ${s.metric})`,
        );
        process.stdout.write(`created collection "${name}" (vectors: ${vectors.join(" ")})\n`);
      });
    });
}

export function dropCommand(ctx: CliContext): Command {
  return new Command("drop")
    .description("delete a collection and all its records (needs --yes)")
    .argument("<collection>", "collection to drop")
    .option("--yes", "confirm: the records cannot be recovered")
    .action(async (name: string, opts: { yes?: boolean }, cmd: Command) => {
      await ctx.withDb(cmd, async (db) => {
        const coll = await db.collection(name); // NOT_FOUND before asking for confirmation
        const count = await coll.count();
        if (!opts.yes)
          throw badOption(
            "--yes",
            `dropping "${name}" deletes its ${count.toLocaleString("en-US")} records for good; run again with --yes`,
          );
        await db.dropCollection(name);
        process.stdout.write(`dropped collection "${name}" (${count.toLocaleString("en-US")} records)\n`);
      });
    });
}
