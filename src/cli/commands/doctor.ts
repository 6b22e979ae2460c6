/**
 * `quiver doctor <collection>`: the data-quality report of a stored collection (exact and near
 * duplicates, empty and very short texts, abnormal norms, outliers) with counts and examples.
 */
import { Command } from "commander";
import { doctor } from "../../quality/report.js";
import { formatFindings } from "../../quality/analyze.js";
import { badOption, intOption, type CliContext } from "../output.js";

interface DoctorCliOptions {
  json?: boolean;
  vector?: string;
  textField?: string;
  threshold: string;
  minChars: number;
  max: number;
  examples: number;
}

export function doctorCommand(ctx: CliContext): Command {
  return new Command("doctor")
    .description(
      "report duplicates, near-duplicates, empty or short texts, abnormal norms and outliers in a collection",
    )
    .argument("<collection>", "collection to check")
    .option("--json", "print the report as JSON")
    .option("--vector <name>", "named vector to check (default: the only one, or the one bound to an embedder)")
    .option("--text-field <path>", "payload field holding the text (default: the vector's source, else text)")
    .option("--threshold <cos>", "cosine similarity from which two records are near-duplicates", "0.95")
    .option("--min-chars <n>", "texts shorter than this are very short", intOption(0), 20)
    .option("--max <n>", "records to check at most (all pairs are compared)", intOption(1), 5000)
    .option("--examples <n>", "examples per finding", intOption(0), 5)
    .action(async (name: string, opts: DoctorCliOptions, cmd: Command) => {
      const threshold = Number(opts.threshold);
      if (!(threshold > 0 && threshold <= 1)) throw badOption("--threshold", "must be a number in (0, 1]");
      await ctx.withDb(
        cmd,
        async (db) => {
          const report = await doctor(await db.collection(name), {
            vector: opts.vector,
            textField: opts.textField,
            nearDuplicateThreshold: threshold,
            minChars: opts.minChars,
            maxRecords: opts.max,
            examples: opts.examples,
          });
          if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          else
            process.stdout.write(
              `${formatFindings(report, `doctor "${name}" (vector ${report.vector ?? "none"}, text field ${report.textField})`)}\n`,
            );
        },
        { readOnly: true },
      );
    });
}
