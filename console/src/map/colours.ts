/**
 * Colouring the map by a payload field: strings by their most frequent values (the rest "other"),
 * numbers in equal-width bins; records without the field are "none". Each point gets a category
 * index into PALETTE, with a legend.
 */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#bcbd22",
  "#7f7f7f",
  "#aec7e8",
  "#ffbb78",
  "#98df8a",
  "#c5b0d5",
];
const NUMBER_BINS = 8;

export interface Colouring {
  /** Category index per point. */
  categories: Float32Array;
  legend: { label: string; colour: string }[];
}

function uniform(n: number): Colouring {
  return { categories: new Float32Array(n), legend: [{ label: "all", colour: PALETTE[0] }] };
}

export function colourBy(payloads: Record<string, unknown>[], field: string): Colouring {
  const n = payloads.length;
  if (field === "") return uniform(n);
  const values = payloads.map((p) => p[field]);
  const numbers = values.filter((v): v is number => typeof v === "number");
  const categories = new Float32Array(n);
  if (numbers.length > 0 && numbers.length === values.filter((v) => v !== undefined).length) {
    // A loop, not Math.min(...numbers): 100,000 arguments can overflow the stack.
    let min = Infinity;
    let max = -Infinity;
    for (const v of numbers) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const width = (max - min) / NUMBER_BINS || 1;
    const none = NUMBER_BINS;
    values.forEach((v, i) => {
      categories[i] = typeof v === "number" ? Math.min(NUMBER_BINS - 1, Math.floor((v - min) / width)) : none;
    });
    const legend = Array.from({ length: NUMBER_BINS }, (_, b) => ({
      label: `${(min + b * width).toPrecision(4)} – ${(min + (b + 1) * width).toPrecision(4)}`,
      colour: PALETTE[b],
    }));
    legend.push({ label: "none", colour: PALETTE[none] });
    return { categories, legend };
  }
  const freq = new Map<string, number>();
  for (const v of values) if (v !== undefined) freq.set(String(v), (freq.get(String(v)) ?? 0) + 1);
  const top = [...freq.entries()].sort((a, b) => b[1] - a[1]).slice(0, PALETTE.length - 2);
  const index = new Map(top.map(([label], i) => [label, i]));
  const other = top.length;
  const none = top.length + 1;
  values.forEach((v, i) => {
    categories[i] = v === undefined ? none : (index.get(String(v)) ?? other);
  });
  const legend = top.map(([label], i) => ({ label, colour: PALETTE[i] }));
  if (freq.size > top.length) legend.push({ label: "other", colour: PALETTE[other] });
  legend.push({ label: "none", colour: PALETTE[none] });
  return { categories, legend };
}
