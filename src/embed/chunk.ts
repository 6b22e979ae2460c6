/**
 * Splitting documents into chunks for embedding. Structure first: a Markdown document is cut at
 * its headings into sections, a section into paragraphs, and paragraphs are packed into chunks of
 * at most `size` characters; only a paragraph longer than that is cut, at sentence ends, then at
 * spaces. Consecutive chunks of a section share `overlap` characters (whole words) so a sentence
 * cut in two is still found. Each chunk keeps its heading path and character offsets.
 */

export interface ChunkOptions {
  /** Largest chunk, in characters (default 1,000). */
  size?: number;
  /** Characters repeated from the end of one chunk at the start of the next, within a section (default 100). */
  overlap?: number;
  /** `markdown` splits at `#` headings first (default); `text` only at blank lines. */
  format?: "markdown" | "text";
}

export interface Chunk {
  text: string;
  /** 0-based position in the document. */
  index: number;
  /** Headings above this chunk, outermost first (Markdown). */
  headings: string[];
  /** Character offsets of the chunk's own text in the source (the overlap comes before `start`). */
  start: number;
  end: number;
}

interface Piece {
  text: string;
  start: number;
  end: number;
}

interface Section {
  headings: string[];
  paragraphs: Piece[];
}

const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;

/** Sections (at headings) of paragraphs (at blank lines), with offsets into the source. */
function sections(text: string, markdown: boolean): Section[] {
  const out: Section[] = [{ headings: [], paragraphs: [] }];
  const stack: { level: number; title: string }[] = [];
  let para: Piece | null = null;
  let inFence = false;
  let pos = 0;
  const flush = () => {
    if (para?.text.trim()) out[out.length - 1].paragraphs.push({ ...para, text: para.text.trim() });
    para = null;
  };
  for (const line of text.split("\n")) {
    const lineStart = pos;
    pos += line.length + 1;
    if (markdown && /^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const h = markdown && !inFence ? HEADING.exec(line) : null;
    if (h) {
      flush();
      const level = h[1].length;
      while (stack.length > 0 && stack[stack.length - 1].level >= level) stack.pop();
      stack.push({ level, title: h[2] });
      out.push({ headings: stack.map((s) => s.title), paragraphs: [] });
      // The heading line itself opens the section's first paragraph, so its words are searchable.
      para = { text: line.replace(/^#+\s*/, ""), start: lineStart, end: lineStart + line.length };
      flush();
      continue;
    }
    if (line.trim() === "" && !inFence) {
      flush();
      continue;
    }
    if (para) {
      para.text += `\n${line}`;
      para.end = lineStart + line.length;
    } else {
      para = { text: line, start: lineStart, end: lineStart + line.length };
    }
  }
  flush();
  return out.filter((s) => s.paragraphs.length > 0);
}

/** Cuts a long paragraph at sentence ends, then at spaces, into pieces of at most `size`. */
function cutLong(p: Piece, size: number): Piece[] {
  if (p.text.length <= size) return [p];
  const out: Piece[] = [];
  let rest = p.text;
  let offset = p.start;
  while (rest.length > size) {
    const window = rest.slice(0, size);
    let cut = -1;
    for (const m of window.matchAll(/[.!?。！？](\s|$)/g)) if (m.index! + 1 >= size / 3) cut = m.index! + 1;
    if (cut < 0) cut = window.lastIndexOf(" ") > size / 3 ? window.lastIndexOf(" ") : size;
    out.push({ text: rest.slice(0, cut).trim(), start: offset, end: offset + cut });
    const skip = rest.slice(cut).length - rest.slice(cut).trimStart().length;
    rest = rest.slice(cut + skip);
    offset += cut + skip;
  }
  if (rest.trim()) out.push({ text: rest.trim(), start: offset, end: p.end });
  return out;
}

/** The last `n` characters of a text, starting at a word boundary. */
function tail(text: string, n: number): string {
  if (n <= 0) return "";
  if (text.length <= n) return text;
  const t = text.slice(text.length - n);
  const sp = t.indexOf(" ");
  return sp >= 0 && sp < t.length - 1 ? t.slice(sp + 1) : t;
}

/**
 * Splits a document into chunks.
 * @example
 * chunkText("# Intro\n\nQuiver is...\n\n## Install\n\nnpm install quiverdb", { size: 500 })
 * // [{ text: "Intro\n\nQuiver is...", headings: ["Intro"], ... }, { text: "Install\n\nnpm install quiverdb", headings: ["Intro", "Install"], ... }]
 */
export function chunkText(text: string, opts: ChunkOptions = {}): Chunk[] {
  const size = Math.max(50, opts.size ?? 1000);
  const overlap = Math.max(0, Math.min(opts.overlap ?? 100, Math.floor(size / 2)));
  const normalized = text.replace(/\r\n?/g, "\n");
  const chunks: Chunk[] = [];
  for (const section of sections(normalized, (opts.format ?? "markdown") === "markdown")) {
    let cur: Piece[] = [];
    let len = 0;
    let carry = "";
    const emit = () => {
      if (cur.length === 0) return;
      const own = cur.map((p) => p.text).join("\n\n");
      const body = carry ? `${carry} ${own}` : own;
      chunks.push({
        text: body,
        index: chunks.length,
        headings: section.headings,
        start: cur[0].start,
        end: cur[cur.length - 1].end,
      });
      carry = tail(own, overlap);
      cur = [];
      len = 0;
    };
    const room = size - overlap;
    for (const para of section.paragraphs) {
      for (const piece of cutLong(para, room)) {
        if (len > 0 && len + 2 + piece.text.length > room) emit();
        cur.push(piece);
        len += (len > 0 ? 2 : 0) + piece.text.length;
      }
    }
    emit();
  }
  return chunks;
}
