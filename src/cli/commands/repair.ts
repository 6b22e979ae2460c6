/**
 * `quiver repair <dir>`: shows the damage recovery found and exactly what a repair would lose;
 * with --yes, backs up every file it changes into `<dir>/repair-backup-<timestamp>/`, repairs
 * (src/database/repair.ts), and checks that the database now opens.
 */
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import {
  applyRepair,
  Database,
  defaultTextPlugins,
  describeDamage,
  NodeDirectory,
  planRepair,
  QuiverError,
  type RepairAction,
} from "../../index.js";

function describeAction(a: RepairAction): string {
  if (a.kind === "truncate") return `cut ${a.file} at offset ${a.offset}`;
  if (a.kind === "remove") return `remove ${a.file}`;
  return `create ${a.file} as an empty WAL file`;
}

export function repairCommand(): Command {
  return new Command("repair")
    .description("report damaged files and what a repair would lose; with --yes, back them up and repair")
    .argument("<dir>", "database directory")
    .option("--yes", "carry out the repair (after backing up every file it changes)")
    .option("--json", "print the plan as JSON")
    .action(async (path: string, opts: { yes?: boolean; json?: boolean }) => {
      if (!existsSync(path)) throw new QuiverError("NOT_FOUND", `${path} does not exist`);
      const dir = new NodeDirectory(path);
      const text = defaultTextPlugins;
      const plan = await planRepair(dir, { text });
      const out = (line: string) => process.stdout.write(`${line}\n`);
      if (opts.json) out(JSON.stringify(plan, null, 2));
      else if (plan.damage.length === 0) out(`${path}: no damage found`);
      else {
        out(`${path}: damage found`);
        for (const d of plan.damage) out(`  ${describeDamage(d)}`);
        if (!plan.unrepairable) {
          out("repair:");
          for (const a of plan.actions) out(`  ${describeAction(a)}`);
          out(`loss: ${plan.loss.description}`);
        }
      }
      if (plan.damage.length === 0) return;
      if (plan.unrepairable) throw new QuiverError("CORRUPT", plan.unrepairable);
      if (!opts.yes) {
        process.stderr.write("nothing changed: run again with --yes to back up the files above and repair\n");
        process.exitCode = 1;
        return;
      }
      const backup = join(path, `repair-backup-${new Date().toISOString().replace(/[:.]/g, "-")}`);
      mkdirSync(backup);
      for (const f of [...plan.filesChanged, "MANIFEST"])
        if (existsSync(join(path, f))) copyFileSync(join(path, f), join(backup, f));
      await applyRepair(dir, plan);
      const db = await Database.openDirectory(dir, { text });
      const counts = (await db.listCollections()).map((c) => `${c.name} (${c.count})`).join(", ");
      await db.close();
      out(`repaired; the changed files are backed up in ${backup}`);
      out(`the database opens: ${counts || "no collections"}`);
    });
}
