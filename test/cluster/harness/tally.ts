/**
 * Totals of a fault test's trials (trials, batches and record operations acknowledged, losses),
 * asserted trial by trial and printed once at the end as a `#` line, the figures docs/cluster.md quotes.
 */
import assert from "node:assert/strict";
import type { ShardCheck } from "./checker.js";

export class Tally {
  private trials = 0;
  private acknowledged = 0;
  private operations = 0;
  private losses = 0;
  private readonly notes = new Map<string, number>();

  constructor(private readonly fault: string) {}

  /** Adds a trial's check, failing on any problem it found. */
  add(trial: number, check: ShardCheck): void {
    assert.deepEqual(check.problems, [], `${this.fault}, trial ${trial}`);
    assert.ok(check.acknowledged > 0, `${this.fault}, trial ${trial}: nothing was acknowledged`);
    this.trials++;
    this.acknowledged += check.acknowledged;
    this.operations += check.operations;
    this.losses += check.losses;
  }

  /** Counts something a trial saw (failed writes during the fault, fenced commits, ...). */
  note(what: string, n: number): void {
    this.notes.set(what, (this.notes.get(what) ?? 0) + n);
  }

  print(): void {
    const notes = [...this.notes].map(([what, n]) => `, ${n} ${what}`).join("");
    console.log(
      `# ${this.fault}: ${this.trials} trials, ${this.acknowledged} batches (${this.operations} operations) acknowledged, ${this.losses} lost${notes}`,
    );
  }
}
