/**
 * Terminal output shared by the CLI commands: error reports and exit codes, progress bars on
 * stderr, option parsers, and small formatting helpers for tables, sizes and rates.
 */
import { InvalidArgumentError, type Command } from "commander";
import cliProgress from "cli-progress";
import { ERROR_CATALOG, QuiverError, type OpenDatabase } from "../index.js";

/** What main.ts hands every command: a way to run work against the database named by `--db`. */
export interface CliContext {
  /**
   * Opens the database of `--db`, runs `fn`, and always closes it (also on error and SIGINT, which
   * aborts `signal`). `readOnly`: open as a reader beside a running writer (commands that only read).
   * `threads`: open()'s search threads, which also build the graphs of large writes (bulk imports).
   */
  withDb<T>(
    cmd: Command,
    fn: (db: OpenDatabase, signal: AbortSignal) => Promise<T>,
    mode?: { readOnly?: boolean; threads?: number },
  ): Promise<T>;
}

/**
 * Prints an error on stderr and returns the exit code from its catalog kind: 1 for user errors, 2
 * for system errors. Anything that is not a QuiverError is a bug, reported as INTERNAL.
 */
export function reportError(err: unknown): number {
  const e =
    err instanceof QuiverError
      ? err
      : new QuiverError("INTERNAL", err instanceof Error ? err.message : String(err), { cause: err });
  // An error built from problems repeats them in its message; then the catalog summary heads the list instead.
  const first = e.problems[0];
  const repeats =
    first !== undefined && e.message.startsWith(first.path ? `${first.path}: ${first.message}` : first.message);
  process.stderr.write(`error [${e.code}]: ${repeats ? ERROR_CATALOG[e.code].summary : e.message}\n`);
  for (const p of e.problems) process.stderr.write(`  at ${p.path || "(input)"}: ${p.message}\n`);
  if (e !== err && process.env.QUIVER_DEBUG && err instanceof Error && err.stack)
    process.stderr.write(`${err.stack}\n`);
  return e.kind === "user" ? 1 : 2;
}

/** A user error about a command-line value, reported like any other QuiverError. */
export function badOption(path: string, message: string): QuiverError {
  return QuiverError.fromProblems("INVALID_ARGUMENT", [{ path, message }]);
}

/**
 * The database of `serve` and `mcp`: `--db` like every command. Their old `--data` still works,
 * with a warning, because everywhere else `--data` names a dataset.
 */
export function servedDatabase(cmd: Command, data: string | undefined): string {
  const db = cmd.optsWithGlobals().db as string;
  if (data === undefined) return db;
  if (cmd.parent?.getOptionValueSource("db") === "cli" && db !== data)
    throw badOption("--data", `names another database than --db (${data} vs ${db}); give only --db`);
  process.stderr.write(`warning: --data is deprecated for ${cmd.name()}; use --db ${data}\n`);
  return data;
}

/** Commander parser for an integer option within [min, max]. */
export function intOption(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
      throw new InvalidArgumentError(`expected ${range}, got "${value}"`);
    }
    return n;
  };
}

/** Parses a JSON option value, naming the option when it is malformed. */
export function parseJsonOption(text: string, option: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badOption(option, `is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

export interface Progress {
  /** Advances by `n`; `detail` (e.g. "12/30 documents") is shown after the figures. */
  increment(n: number, detail?: string): void;
  stop(): void;
}

/**
 * A progress bar on stderr. On a terminal it redraws in place; when stderr is a file or a pipe,
 * cli-progress prints a plain line every two seconds instead, so logs stay readable.
 */
export function progressBar(label: string, total: number): Progress {
  const tty = process.stderr.isTTY === true;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: tty
        ? `${label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}{detail}`
        : `${label}: {value}/{total} ({percentage}%){detail}`,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: tty,
      // Restores the cursor if Ctrl-C arrives mid-bar; off a TTY, skip the blank line stop() would add.
      gracefulExit: true,
      clearOnComplete: !tty,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const start = performance.now();
  let value = 0;
  bar.start(total, 0, { rate: "0", detail: "" });
  return {
    increment(n, detail) {
      value += n;
      const seconds = (performance.now() - start) / 1000;
      bar.update(value, {
        rate: seconds > 0 ? Math.round(value / seconds).toLocaleString("en-US") : "0",
        detail: detail === undefined ? "" : ` | ${detail}`,
      });
    },
    stop() {
      bar.stop();
    },
  };
}

/** `1234567` -> `1.2 MiB`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** The closing line of an import or export: records, seconds, records per second. */
export function summaryLine(verb: string, records: number, ms: number): string {
  const seconds = ms / 1000;
  const rate = seconds > 0 ? Math.round(records / seconds) : records;
  return `${verb} ${records.toLocaleString("en-US")} records in ${seconds.toFixed(2)} s (${rate.toLocaleString("en-US")} records/s)`;
}

/** Left-aligned text table; the last column is never padded (it holds long payload JSON). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ");
  return `${[line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n")}\n`;
}

/** Indented JSON with arrays of numbers (vectors) kept on one line each. */
export function prettyJson(value: unknown): string {
  const arrays: string[] = [];
  const text = JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number")) {
        arrays.push(JSON.stringify(v));
        return `\u0000quiver-vector:${arrays.length - 1}\u0000`;
      }
      return v;
    },
    2,
  );
  return text.replace(/"\\u0000quiver-vector:(\d+)\\u0000"/g, (_m, i: string) => arrays[Number(i)]);
}

/** Cuts long text for a table cell. */
export function clip(text: string, max = 100): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
