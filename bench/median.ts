// The median of a list of measurements (the mean of the two middle ones for an even count), as every
// bench reports repeated runs on this shared, noisy machine.

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
