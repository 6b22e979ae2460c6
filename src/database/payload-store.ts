/**
 * A collection's payloads by slot. Those loaded from segments stay as the segment's JSON text until
 * first read: an open parses nothing it does not need (payload indexes and full-text postings load
 * from the index file), and a checkpoint rewrites an unread payload's text as it is.
 *
 * A loaded payload is held as (text, start, end) in three typed arrays, not as an object or a string
 * per record, so loading allocates nothing per record. Each text is dropped once every payload in
 * it has been parsed or replaced, so memory holds each payload once as text or as an object, plus
 * the texts still partly unread.
 */
import type { PayloadTexts } from "../storage/payload-texts.js";

export type Payload = Record<string, unknown>;

export class PayloadStore {
  private readonly objects: (Payload | undefined)[] = [];
  /** source[slot]: index into `texts` of the slot's unread payload, or -1. */
  private source = new Int32Array(0).fill(-1);
  private start = new Uint32Array(0);
  private end = new Uint32Array(0);
  /** Loaded texts and how many of their payloads are still unread; null once none is. */
  private readonly texts: ({ text: string; unread: number } | null)[] = [];

  /** The payload at `slot`, parsed now if it was still text; undefined for a free slot. */
  get(slot: number): Payload | undefined {
    const from = slot < this.source.length ? this.source[slot] : -1;
    if (from < 0) return this.objects[slot];
    const payload = JSON.parse(this.texts[from]!.text.slice(this.start[slot], this.end[slot])) as Payload;
    this.settle(slot);
    this.objects[slot] = payload;
    return payload;
  }

  set(slot: number, payload: Payload | undefined): void {
    this.settle(slot);
    this.objects[slot] = payload;
  }

  /** The payload at `slot` as JSON: its stored text when unread (not parsed to be written again). */
  json(slot: number): string {
    const from = slot < this.source.length ? this.source[slot] : -1;
    if (from >= 0) return this.texts[from]!.text.slice(this.start[slot], this.end[slot]);
    return JSON.stringify(this.objects[slot] ?? {});
  }

  /** Takes a segment's payloads, record i's going to `slots[i]`, unread. */
  load(slots: Uint32Array, texts: PayloadTexts): void {
    let top = 0;
    for (const slot of slots) top = Math.max(top, slot + 1);
    if (top > this.source.length) this.grow(top);
    const from = this.texts.length;
    this.texts.push({ text: texts.text, unread: slots.length });
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i];
      this.settle(slot);
      this.source[slot] = from;
      this.start[slot] = texts.starts[i];
      this.end[slot] = texts.ends[i];
      this.objects[slot] = undefined;
    }
    if (slots.length === 0) this.texts[from] = null;
  }

  /** Payloads still held as text (for tests and memory figures). */
  get unread(): number {
    let n = 0;
    for (const t of this.texts) n += t?.unread ?? 0;
    return n;
  }

  /** `slot` no longer refers to a text; a text none refers to is let go. */
  private settle(slot: number): void {
    const from = slot < this.source.length ? this.source[slot] : -1;
    if (from < 0) return;
    this.source[slot] = -1;
    const t = this.texts[from]!;
    if (--t.unread === 0) this.texts[from] = null;
  }

  private grow(size: number): void {
    const capacity = Math.max(size, this.source.length * 2, 64);
    const source = new Int32Array(capacity).fill(-1);
    source.set(this.source);
    const start = new Uint32Array(capacity);
    start.set(this.start);
    const end = new Uint32Array(capacity);
    end.set(this.end);
    this.source = source;
    this.start = start;
    this.end = end;
  }
}
