/**
 * The statistics behind the data-quality report, pure functions over texts and vectors: exact
 * duplicates (normalized-text hash), near-duplicates (cosine at or above a threshold), empty and
 * very short texts, abnormal norms and outliers (robust z-scores, median and MAD, so the planted
 * oddities cannot hide by inflating the spread the way they would with mean and deviation).
 */

/** Lower-cased, whitespace-collapsed text: what "the same text" means for exact duplicates. */
export function normalizeText(t: string): string {
  return t.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Modified z-scores (Iglewicz and Hoaglin): 0.6745 (x - median) / MAD. |z| > 3.5 is their outlier
 * rule. When the MAD is 0 (most values equal), the mean absolute deviation stands in.
 */
export function robustZ(xs: number[]): number[] {
  const med = median(xs);
  const mad = median(xs.map((x) => Math.abs(x - med)));
  if (!(mad > 0)) {
    const meanAd = xs.reduce((a, x) => a + Math.abs(x - med), 0) / Math.max(1, xs.length);
    if (!(meanAd > 0)) return xs.map(() => 0);
    return xs.map((x) => (x - med) / (1.2533 * meanAd));
  }
  return xs.map((x) => (0.6745 * (x - med)) / mad);
}

export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Unit-length copies (zero vectors stay zero). */
export function normalized(vs: ArrayLike<number>[]): Float32Array[] {
  return vs.map((v) => {
    const n = norm(v);
    const out = Float32Array.from(v as ArrayLike<number>);
    if (n > 0) for (let i = 0; i < out.length; i++) out[i] /= n;
    return out;
  });
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export interface NeighbourStats {
  /** Most similar other vector (index) and its cosine, per vector; -1 / -Infinity when alone. */
  nearest: Int32Array;
  nearestScore: Float64Array;
  /** Mean cosine to the k most similar others: low values mark outliers. */
  meanTopK: Float64Array;
}

/** All-pairs cosine neighbours of unit vectors: O(n² d), meant for a few thousand vectors. */
export function neighbours(unit: Float32Array[], k = 5): NeighbourStats {
  const n = unit.length;
  const nearest = new Int32Array(n).fill(-1);
  const nearestScore = new Float64Array(n).fill(-Infinity);
  const top: number[][] = Array.from({ length: n }, () => []);
  const push = (i: number, s: number) => {
    const t = top[i];
    if (t.length < k) {
      t.push(s);
      t.sort((a, b) => b - a);
    } else if (s > t[k - 1]) {
      t[k - 1] = s;
      t.sort((a, b) => b - a);
    }
  };
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = dot(unit[i], unit[j]);
      if (s > nearestScore[i]) [nearestScore[i], nearest[i]] = [s, j];
      if (s > nearestScore[j]) [nearestScore[j], nearest[j]] = [s, i];
      push(i, s);
      push(j, s);
    }
  }
  const meanTopK = Float64Array.from(top, (t) => (t.length ? t.reduce((a, b) => a + b, 0) / t.length : 0));
  return { nearest, nearestScore, meanTopK };
}

export interface Finding {
  /** The record (or chunk) id. */
  id: string;
  /** Another id it duplicates or resembles, for duplicates. */
  of?: string;
  /** Similarity, norm or z-score, depending on the check. */
  score?: number;
  /** A short excerpt of the text, when there is one. */
  text?: string;
}

export interface QualityOptions {
  /** Cosine at or above which two different texts are near-duplicates (default 0.95). */
  nearDuplicateThreshold?: number;
  /** Texts shorter than this (after trimming) are "very short" (default 20 characters). */
  minChars?: number;
  /** |robust z| above which a norm or a neighbour similarity is abnormal (default 3.5). */
  zThreshold?: number;
  /** Examples kept per finding kind (default 5). */
  examples?: number;
}

export interface QualityCheck {
  count: number;
  examples: Finding[];
}

export interface QualityFindings {
  records: number;
  exactDuplicates: QualityCheck;
  nearDuplicates: QualityCheck;
  emptyTexts: QualityCheck;
  shortTexts: QualityCheck;
  abnormalNorms: QualityCheck;
  outliers: QualityCheck;
  /** Checks that could not run, and why (e.g. norms of stored cosine vectors). */
  notes: string[];
}

export interface QualityItem {
  id: string;
  text?: string;
  /** Raw vector (its norm is checked unless `normsMeaningful` is false). */
  vector?: ArrayLike<number>;
}

function excerpt(t: string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const one = t.replace(/\s+/g, " ").trim();
  return one.length > 80 ? `${one.slice(0, 79)}…` : one;
}

/**
 * Runs every check on a set of items. Exact duplicates hide from the near-duplicate list (a pair
 * is reported once, under its strongest kind).
 */
export function analyzeQuality(
  items: QualityItem[],
  opts: QualityOptions & { normsMeaningful?: boolean } = {},
): QualityFindings {
  const threshold = opts.nearDuplicateThreshold ?? 0.95;
  const minChars = opts.minChars ?? 20;
  const z = opts.zThreshold ?? 3.5;
  const max = opts.examples ?? 5;
  const check = (): QualityCheck => ({ count: 0, examples: [] });
  const f: QualityFindings = {
    records: items.length,
    exactDuplicates: check(),
    nearDuplicates: check(),
    emptyTexts: check(),
    shortTexts: check(),
    abnormalNorms: check(),
    outliers: check(),
    notes: [],
  };
  const add = (c: QualityCheck, finding: Finding) => {
    c.count++;
    if (c.examples.length < max) c.examples.push(finding);
  };
  // Texts: empty, short, exact duplicates.
  const firstByText = new Map<string, string>();
  const exact = new Set<string>();
  for (const it of items) {
    if (it.text === undefined) continue;
    const t = it.text.trim();
    if (t === "") add(f.emptyTexts, { id: it.id });
    else if (t.length < minChars) add(f.shortTexts, { id: it.id, text: excerpt(t), score: t.length });
    if (t === "") continue;
    const key = normalizeText(t);
    const first = firstByText.get(key);
    if (first !== undefined) {
      add(f.exactDuplicates, { id: it.id, of: first, text: excerpt(t) });
      exact.add(it.id);
    } else firstByText.set(key, it.id);
  }
  if (!items.some((it) => it.text !== undefined))
    f.notes.push("no texts: empty, short and exact-duplicate text checks skipped");
  // Vectors: norms, near-duplicates, outliers.
  const withVec = items.filter((it) => it.vector !== undefined && it.vector.length > 0);
  if (withVec.length === 0) {
    f.notes.push("no vectors: norm, near-duplicate and outlier checks skipped");
    return f;
  }
  const norms = withVec.map((it) => norm(it.vector!));
  if (opts.normsMeaningful === false) {
    f.notes.push(
      "norms not checked: cosine vectors are stored normalised, so their original norms are gone (checked on ingest instead)",
    );
  } else {
    const zs = robustZ(norms);
    withVec.forEach((it, i) => {
      if (norms[i] === 0 || Math.abs(zs[i]) > z)
        add(f.abnormalNorms, { id: it.id, score: Number(norms[i].toFixed(4)), text: excerpt(it.text) });
    });
  }
  const unit = normalized(withVec.map((it) => it.vector!));
  const nb = neighbours(unit);
  withVec.forEach((it, i) => {
    const j = nb.nearest[i];
    // Report each pair once, from its later member, unless it is already an exact duplicate.
    if (j >= 0 && j < i && nb.nearestScore[i] >= threshold && !exact.has(it.id)) {
      add(f.nearDuplicates, {
        id: it.id,
        of: withVec[j].id,
        score: Number(nb.nearestScore[i].toFixed(4)),
        text: excerpt(it.text),
      });
    } else if (j > i && nb.nearestScore[i] >= threshold && !exact.has(it.id) && nb.nearest[j] !== i) {
      add(f.nearDuplicates, {
        id: it.id,
        of: withVec[j].id,
        score: Number(nb.nearestScore[i].toFixed(4)),
        text: excerpt(it.text),
      });
    }
  });
  if (withVec.length >= 8) {
    const zs = robustZ(Array.from(nb.meanTopK));
    const order = withVec
      .map((_, i) => i)
      .filter((i) => zs[i] < -z)
      .sort((a, b) => zs[a] - zs[b]);
    for (const i of order)
      add(f.outliers, { id: withVec[i].id, score: Number(nb.meanTopK[i].toFixed(4)), text: excerpt(withVec[i].text) });
  } else f.notes.push("fewer than 8 vectors: outliers not assessed");
  return f;
}

/** A few lines of text summarising findings, for the CLI and ingest reports. */
export function formatFindings(f: QualityFindings, title: string): string {
  const rows: [string, QualityCheck][] = [
    ["exact duplicates", f.exactDuplicates],
    ["near-duplicates", f.nearDuplicates],
    ["empty texts", f.emptyTexts],
    ["very short texts", f.shortTexts],
    ["abnormal norms", f.abnormalNorms],
    ["outliers", f.outliers],
  ];
  const lines = [`${title}: ${f.records.toLocaleString("en-US")} records checked`];
  for (const [name, c] of rows) {
    lines.push(`  ${name.padEnd(17)} ${String(c.count).padStart(6)}`);
    for (const e of c.examples) {
      const parts = [
        e.id,
        e.of !== undefined ? `~ ${e.of}` : "",
        e.score !== undefined ? `(${e.score})` : "",
        e.text !== undefined ? JSON.stringify(e.text) : "",
      ].filter(Boolean);
      lines.push(`      ${parts.join(" ")}`);
    }
  }
  for (const n of f.notes) lines.push(`  note: ${n}`);
  return lines.join("\n");
}
