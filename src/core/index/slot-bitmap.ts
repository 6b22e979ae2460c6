/**
 * The one form a set of matching slots takes: a bitmap, bit s of byte s>>3. The graph search walks
 * it in WebAssembly memory, text search tests it per posting, and exact scans list its live slots.
 */

/** Slots as a bitmap (bit s of byte s>>3 set = slot s is in the set). */
export type SlotBitmap = Uint8Array;

/** The bitmap of a list of slots (e.g. a filter's matches), sized for `capacity` slots. */
export function bitmapOf(slots: ArrayLike<number>, capacity: number): SlotBitmap {
  const bits = new Uint8Array(Math.ceil(capacity / 8));
  for (let i = 0; i < slots.length; i++) bits[slots[i] >> 3] |= 1 << (slots[i] & 7);
  return bits;
}

export function hasSlot(bits: SlotBitmap, slot: number): boolean {
  return (bits[slot >> 3] & (1 << (slot & 7))) !== 0;
}

/** Slots in the bitmap whose `live` byte is 1, ascending. Empty bytes are skipped whole. */
export function allowedSlots(bits: SlotBitmap, live: Uint8Array): Uint32Array {
  const out: number[] = [];
  forEachAllowed(bits, live, (s) => out.push(s));
  return Uint32Array.from(out);
}

/** How many slots in the bitmap have their `live` byte set to 1. */
export function countAllowed(bits: SlotBitmap, live: Uint8Array): number {
  let c = 0;
  forEachAllowed(bits, live, () => c++);
  return c;
}

function forEachAllowed(bits: SlotBitmap, live: Uint8Array, visit: (slot: number) => void): void {
  const bytes = Math.min(bits.length, Math.ceil(live.length / 8));
  for (let b = 0; b < bytes; b++) {
    let byte = bits[b];
    // A sparse set is mostly zero bytes: eight slots skipped per test.
    while (byte !== 0) {
      const bit = 31 - Math.clz32(byte & -byte);
      byte &= byte - 1;
      const s = (b << 3) | bit;
      if (live[s] === 1) visit(s);
    }
  }
}
