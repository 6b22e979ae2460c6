/**
 * A reader beside the writer (`open(path, { readOnly: true })`): it takes no lock and changes
 * nothing on disk. It loads the last checkpoint the way recovery does (removing nothing), then
 * applies the WAL records appended since, from where it last stopped.
 *
 * Why each step is safe while another process writes:
 * - WAL records are only appended. A record that is incomplete or fails its checksum is a write
 *   in flight, not damage: the cursor stays in front of it and the next refresh reads it again.
 * - A checkpoint publishes a new MANIFEST (atomic rename), then deletes the WAL files and segments
 *   it made obsolete. A reader that has applied everything up to the new checkpoint keeps its state
 *   and follows the new WAL files. One that is behind first reads on in the old WAL files; only if
 *   they are already gone does it reload from the new manifest. A file that vanishes under a read, or a gap in the sequence
 *   numbers, means a checkpoint happened meanwhile: the refresh starts over from the manifest then
 *   current.
 * - Sequence numbers make it exact: records at or below the last applied one are skipped, and the
 *   next applied must be exactly one more, so nothing is missed or applied twice.
 *
 * A reader can see a write shortly before the writer acknowledges it (appended, fsync in flight).
 */
import { ensureStopWords } from "./stop-words-on-demand.js";
import { QuiverError, isQuiverError } from "../core/errors/errors.js";
import { readFileFrom, type Directory } from "../storage/directory.js";
import { MANIFEST_FILE, decodeManifest, emptyManifest, type Manifest } from "../storage/manifest.js";
import { parseWalFileName, scanWalFrom, walFileName } from "../storage/wal.js";
import type { StateEnv } from "./collection-state.js";
import { decodeOp, type Op } from "./ops.js";
import { recover, type Recovered } from "./recovery.js";

/** The read-only database's state, as the follower changes it. */
export interface FollowTarget {
  /** The sequence number of the last operation applied. */
  appliedSeq(): number;
  /** Applies one logged operation (synchronously: a query sees the state before or after it). */
  apply(op: Op, seq: number): void;
  /** Replaces the whole state by a fresh load (the old one is disposed by the target). */
  replace(loaded: Recovered): void;
  /** A new manifest whose checkpoint the state already holds: only the file lists change. */
  adopt(manifest: Manifest): void;
}

/**
 * Attempts before giving up when the writer keeps changing files under a load or a refresh. Each
 * retry needs another checkpoint to land within one read, so a few are plenty.
 */
const MAX_ATTEMPTS = 8;

/** The state read does not match the files any more (a checkpoint moved them): start over. */
class Moved extends Error {}

const moved = (e: unknown): boolean =>
  e instanceof Moved || isQuiverError(e, "NOT_FOUND") || isQuiverError(e, "CORRUPT");

async function readManifestBytes(dir: Directory): Promise<Uint8Array | null> {
  try {
    return await dir.read(MANIFEST_FILE);
  } catch (e) {
    if (isQuiverError(e, "NOT_FOUND")) return null; // a new database: the writer has not checkpointed yet
    throw e;
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Follower {
  /** The manifest the state was built from or adopted (null: none existed). */
  private manifestBytes: Uint8Array | null = null;
  private walStart = 1;
  /** Where reading resumes: a WAL file and the offset just past its last intact record. */
  private cursor = { wal: 0, offset: 0 };

  private constructor(
    private readonly dir: Directory,
    private readonly env: StateEnv,
  ) {}

  /** How far into the newest WAL file read so far this reader has applied (bytes). */
  get walBytes(): number {
    return this.cursor.offset;
  }

  /** Loads the current checkpoint and WAL of `dir` without changing anything there. */
  static async load(dir: Directory, env: StateEnv): Promise<{ follower: Follower; loaded: Recovered }> {
    const follower = new Follower(dir, env);
    return { follower, loaded: await follower.loadConsistent() };
  }

  /**
   * Recovery, read-only, checked against the manifest before and after: when it did not change,
   * every file read was one that manifest names (segments are immutable, WAL files only grow).
   */
  private async loadConsistent(): Promise<Recovered> {
    let failure: unknown = new QuiverError("UNAVAILABLE", "the writer kept replacing the manifest during the load");
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const before = await readManifestBytes(this.dir);
      let loaded: Recovered | null = null;
      try {
        loaded = await recover(this.dir, this.env, { readOnly: true });
      } catch (e) {
        if (!moved(e)) throw e;
        failure = e;
      }
      const after = await readManifestBytes(this.dir);
      if (loaded && sameBytes(before, after)) {
        this.manifestBytes = after;
        this.walStart = loaded.manifest.walStart;
        const last = loaded.wals[loaded.wals.length - 1];
        this.cursor = last ? { wal: last.number, offset: last.validLength } : { wal: this.walStart, offset: 0 };
        return loaded;
      }
      if (loaded) for (const c of loaded.collections.values()) c.dispose();
    }
    throw failure;
  }

  /** Brings `target` up to the last record the writer has appended; retried while files move. */
  async refresh(target: FollowTarget): Promise<void> {
    let failure: unknown;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        await this.catchUp(target);
        return;
      } catch (e) {
        if (!moved(e)) throw e;
        failure = e;
      }
    }
    // Damage stays damage; anything else means the files kept moving (or a gap that never closed).
    if (failure instanceof QuiverError) throw failure;
    throw new QuiverError(
      "UNAVAILABLE",
      `could not follow the writer's log after ${MAX_ATTEMPTS} attempts: ${failure instanceof Error ? failure.message : String(failure)}`,
    );
  }

  private async catchUp(target: FollowTarget): Promise<void> {
    const bytes = await readManifestBytes(this.dir);
    if (!sameBytes(bytes, this.manifestBytes)) {
      const manifest = bytes ? decodeManifest(bytes) : emptyManifest();
      if (manifest.checkpointSeq > target.appliedSeq()) {
        // What the reader lacks up to the checkpoint is usually still in the WAL files it made
        // obsolete (removed just after the manifest swap): reading on is far cheaper than a reload.
        try {
          await this.readWals(target, this.cursor.wal);
        } catch (e) {
          if (!moved(e)) throw e;
        }
        if (manifest.checkpointSeq > target.appliedSeq()) {
          target.replace(await this.loadConsistent());
          return;
        }
      }
      // Every record in WAL files before the new walStart is at or below the checkpoint, hence applied.
      target.adopt(manifest);
      this.manifestBytes = bytes;
      this.walStart = manifest.walStart;
    }
    await this.readWals(target, Math.max(this.walStart, this.cursor.wal));
  }

  /** Applies the records of WAL files numbered `from` on, resuming at the cursor. */
  private async readWals(target: FollowTarget, from: number): Promise<void> {
    const numbers = (await this.dir.list())
      .map(parseWalFileName)
      .filter((n): n is number => n !== null && n >= from)
      .sort((a, b) => a - b);
    for (const n of numbers) {
      const name = walFileName(n);
      const offset = n === this.cursor.wal ? this.cursor.offset : 0;
      const scan = scanWalFrom(await readFileFrom(this.dir, name, offset), offset, name);
      for (const rec of scan.records) {
        const seq = target.appliedSeq();
        if (rec.seq <= seq) continue;
        if (rec.seq !== seq + 1) throw new Moved(`${name}: operation ${rec.seq} follows ${seq}`);
        const op = decodeOp(rec.op, `${name} seq ${rec.seq}`);
        if (op.type === "create") await ensureStopWords(this.env, op.schema);
        target.apply(op, rec.seq);
      }
      // A torn tail stays unread: in the newest file it is a write in flight, read next time.
      this.cursor = { wal: n, offset: scan.validLength };
    }
  }
}
