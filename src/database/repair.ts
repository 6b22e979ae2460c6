/**
 * Repairing a damaged database directory, as an explicit act (`quiver repair`): plan what to change
 * and exactly what that loses, so the user can decide, then change only the files the plan names.
 * Nothing here runs at open: recovery reports damage and never repairs it silently.
 *
 * What can be repaired: the log. Replay must stop at the first damaged WAL record (or a gap, or a
 * missing WAL start), because what follows cannot be applied without what is missing; the repair
 * cuts the log there and removes the later WAL files, so the database opens with every operation
 * before the damage. A damaged segment or manifest cannot be repaired this way (later segments
 * override earlier ones, so dropping one can resurrect deleted records): restore it from a backup.
 * A damaged index file needs no repair: recovery rebuilds the graphs from the records and says so.
 */
import { QuiverError } from "../core/errors/errors.js";
import { writeFileSynced, type Directory } from "../storage/directory.js";
import { countIntactFrom, parseWalFileName, walHeader } from "../storage/wal.js";
import { Database, type DatabaseOptions } from "./database.js";
import { describeDamage, type Damage } from "./recovery.js";

export type RepairAction =
  | { kind: "truncate"; file: string; offset: number }
  | { kind: "remove"; file: string }
  | { kind: "createEmptyWal"; file: string };

export interface RepairPlan {
  damage: Damage[];
  /** Empty when nothing is damaged, or when the damage cannot be repaired (see `unrepairable`). */
  actions: RepairAction[];
  /** Operations the repair drops: their sequence numbers, first and last, and how many are intact. */
  loss: { operations: number; firstSeq: number | null; lastSeq: number | null; description: string };
  /** Why the damage cannot be repaired here, when it cannot. */
  unrepairable?: string;
  /** Existing files the actions change or remove (to back up first). */
  filesChanged: string[];
}

/** Opens the directory read-only to find the damage, and plans the repair of the first one. */
export async function planRepair(dir: Directory, options: DatabaseOptions = {}): Promise<RepairPlan> {
  const db = await Database.openDirectory(dir, { ...options, ifCorrupt: "readOnly" });
  const damage = db.recovery.damage;
  await db.close();
  const none = { operations: 0, firstSeq: null, lastSeq: null, description: "nothing" };
  if (damage.length === 0) return { damage, actions: [], loss: none, filesChanged: [] };
  const first = damage[0];
  if (first.kind !== "wal") {
    return {
      damage,
      actions: [],
      loss: none,
      filesChanged: [],
      unrepairable: `${describeDamage(first)}: a damaged ${first.kind} cannot be repaired without losing records that cannot be counted; restore ${first.file} from a backup`,
    };
  }
  const files = await dir.list();
  const laterWals = files
    .filter((f) => (parseWalFileName(f) ?? -1) > parseWalFileName(first.file)!)
    .sort((a, b) => parseWalFileName(a)! - parseWalFileName(b)!);
  const fromSeq = first.seq ?? 1;
  const dropped: number[] = [];
  const exists = files.includes(first.file);
  if (exists) {
    const bytes = await dir.read(first.file);
    dropped.push(...countIntactFrom(bytes, first.file, first.offset ?? 0, fromSeq - 1).filter((s) => s >= fromSeq));
  }
  // Later files may be damaged too: count every intact record in them.
  for (const f of laterWals) dropped.push(...countIntactFrom(await dir.read(f), f, 8, 0).filter((s) => s >= fromSeq));
  const seqs = [...new Set(dropped)].sort((a, b) => a - b);
  const loss = {
    operations: seqs.length,
    firstSeq: seqs[0] ?? null,
    lastSeq: seqs[seqs.length - 1] ?? null,
    description: `every operation from seq ${fromSeq} on: ${
      seqs.length === 0
        ? "no intact one is logged after the damage"
        : `${seqs.length} intact operation(s), seq ${seqs[0]} to ${seqs[seqs.length - 1]}, are logged after it (in ${[exists ? first.file : null, ...laterWals].filter(Boolean).join(", ")})`
    }`,
  };
  const actions: RepairAction[] = [
    exists
      ? { kind: "truncate", file: first.file, offset: first.offset ?? 0 }
      : { kind: "createEmptyWal", file: first.file },
    ...laterWals.map((file) => ({ kind: "remove" as const, file })),
  ];
  return { damage, actions, loss, filesChanged: [...(exists ? [first.file] : []), ...laterWals] };
}

/** Carries out a plan from `planRepair` (after the caller has backed up `filesChanged`). */
export async function applyRepair(dir: Directory, plan: RepairPlan): Promise<void> {
  if (plan.unrepairable) throw new QuiverError("CORRUPT", plan.unrepairable);
  const lock = await dir.lock();
  try {
    for (const a of plan.actions) {
      if (a.kind === "remove") await dir.remove(a.file);
      else if (a.kind === "createEmptyWal") await writeFileSynced(dir, a.file, walHeader());
      else {
        const f = await dir.openAppend(a.file);
        try {
          // Cutting into the header (a damaged header) leaves an empty file, which opening rewrites.
          await f.truncate(a.offset < 8 ? 0 : a.offset);
          await f.sync();
        } finally {
          await f.close();
        }
      }
    }
    await dir.syncDir();
  } finally {
    await lock.release();
  }
}
