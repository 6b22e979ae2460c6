/**
 * Splitting documents into chunks for embedding, structure first. A Markdown document is read as
 * blocks: headings, paragraphs, fenced code blocks and lists (a list with its items' continuation
 * lines and the blank lines between items). Blocks are packed in order into chunks of at most `size`
 * characters; a new heading starts a new chunk. A heading is never a chunk of its own: it opens the
 * chunk of the text beneath it, and a section too short to stand alone (under `minSize`) runs on
 * into the next one; a short end of the document is folded into the chunk before it. A code block or
 * list is cut only when it alone exceeds `size`, at item then line boundaries; a paragraph longer
 * than the room at sentence ends, then at spaces. Consecutive chunks of one section share `overlap` characters (whole
 * words) so a sentence cut in two is still found. Each chunk keeps its heading path and the
 * character offsets of its own text in the source (line endings normalised to `\n`).
 */

export interface ChunkOptions {
  /** Largest chunk, in characters, overlap included (default 1,000). */
  size?: number;
  /** Characters repeated from the end of one chunk at the start of the next, within a section (default 100). */
  overlap?: number;
  /**
   * Smallest chunk, in characters (default 200, at most size / 4): a shorter section runs on into
   * the next, a shorter end joins the chunk before. Only a document shorter than this gives a
   * shorter chunk; a chunk exceeds `size` only by a lead-in under `minSize` (a heading and a short
   * paragraph) kept with the code block or list after it, or by a short end folded into it.
   */
  minSize?: number;
  /** `markdown` reads headings, code blocks and lists (default); `text` only paragraphs at blank lines. */
  format?: "markdown" | "text";
}

export interface Chunk {
  text: string;
  /** 0-based position in the document. */
  index: number;
  /** Headings above this chunk's text, outermost first (Markdown). */
  headings: string[];
  /** Character offsets of the chunk's own text in the source (the overlap comes before `start`). */
  start: number;
  end: number;
}

type Kind = "heading" | "prose" | "code" | "list";

/** A block of the source; `text` is `source.slice(start, end)` except for a heading (its title). */
interface Block {
  kind: Kind;
  text: string;
  start: number;
  end: number;
  headings: string[];
}

interface Line {
  text: string;
  start: number;
}

const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
const FENCE = /^\s*(`{3,}|~{3,})/;
const LIST_ITEM = /^\s*([-*+]|\d{1,9}[.)])\s+\S/;

function linesOf(source: string): Line[] {
  const out: Line[] = [];
  let pos = 0;
  for (const text of source.split("\n")) {
    out.push({ text, start: pos });
    pos += text.length + 1;
  }
  return out;
}

/** The block spanning source[start, end) without surrounding whitespace, or null if blank. */
function trimmed(source: string, kind: Kind, start: number, end: number, headings: string[]): Block | null {
  const raw = source.slice(start, end);
  const text = raw.trim();
  if (!text) return null;
  const s = start + (raw.length - raw.trimStart().length);
  return { kind, text, start: s, end: s + text.length, headings };
}

/** The document as blocks, each with the heading path above it. */
function blocks(source: string, markdown: boolean): Block[] {
  const lines = linesOf(source);
  const out: Block[] = [];
  const stack: { level: number; title: string }[] = [];
  let headings: string[] = [];
  const push = (kind: Kind, from: number, to: number) => {
    const last = lines[to - 1];
    const b = trimmed(source, kind, lines[from].start, last.start + last.text.length, headings);
    if (b) out.push(b);
  };
  const blank = (i: number) => lines[i].text.trim() === "";
  let i = 0;
  while (i < lines.length) {
    const line = lines[i].text;
    const h = markdown ? HEADING.exec(line) : null;
    if (blank(i)) {
      i++;
    } else if (h) {
      const level = h[1].length;
      while (stack.length > 0 && stack[stack.length - 1].level >= level) stack.pop();
      stack.push({ level, title: h[2] });
      headings = stack.map((s) => s.title);
      const start = lines[i].start;
      out.push({ kind: "heading", text: h[2], start, end: start + line.length, headings });
      i++;
    } else if (markdown && FENCE.test(line)) {
      const marker = FENCE.exec(line)![1];
      let j = i + 1;
      while (j < lines.length && !lines[j].text.trimStart().startsWith(marker)) j++;
      push("code", i, Math.min(j + 1, lines.length));
      i = j + 1;
    } else if (markdown && LIST_ITEM.test(line)) {
      // Items, their continuation lines, and blank lines followed by another item or an indented line.
      let j = i + 1;
      for (;;) {
        let k = j;
        while (k < lines.length && blank(k)) k++;
        if (k >= lines.length) break;
        const next = lines[k].text;
        const continues = LIST_ITEM.test(next) || /^\s{2,}\S/.test(next);
        const lazy = k === j && !HEADING.test(next) && !FENCE.test(next);
        if (!continues && !lazy) break;
        j = k + 1;
      }
      push("list", i, j);
      i = j;
    } else {
      let j = i + 1;
      const stops = (t: string) => markdown && (HEADING.test(t) || FENCE.test(t) || LIST_ITEM.test(t));
      while (j < lines.length && !blank(j) && !stops(lines[j].text)) j++;
      push("prose", i, j);
      i = j;
    }
  }
  return out;
}

/** Cuts prose into pieces at sentence ends, then at spaces: the first at most `first`, others at most `room`. */
function cutProse(source: string, b: Block, first: number, room: number): Block[] {
  const out: Block[] = [];
  let start = b.start;
  while (b.end - start > (out.length === 0 ? first : room)) {
    const limit = out.length === 0 ? first : room;
    const window = source.slice(start, start + limit);
    let cut = -1;
    for (const m of window.matchAll(/[.!?。！？](\s|$)/g)) if (m.index! + 1 >= limit / 3) cut = m.index! + 1;
    if (cut < 0) cut = window.lastIndexOf(" ") > limit / 3 ? window.lastIndexOf(" ") : limit;
    const piece = trimmed(source, b.kind, start, start + cut, b.headings);
    if (piece) out.push(piece);
    start += cut;
  }
  const rest = trimmed(source, b.kind, start, b.end, b.headings);
  if (rest) out.push(rest);
  return out;
}

/**
 * Cuts a code block or list into pieces: whole list items where they fit, else whole lines, else
 * a line as prose; the first at most `first`, others at most `room`.
 */
function cutLines(source: string, b: Block, first: number, room: number): Block[] {
  const units: Block[] = [];
  let unitStart = b.start;
  for (const line of linesOf(source.slice(b.start, b.end)).slice(1)) {
    const at = b.start + line.start;
    if (b.kind === "code" || LIST_ITEM.test(line.text)) {
      units.push({ ...b, text: "", start: unitStart, end: at - 1 });
      unitStart = at;
    }
  }
  units.push({ ...b, text: "", start: unitStart, end: b.end });
  const out: Block[] = [];
  let cur: Block | null = null;
  const limit = () => (out.length === 0 ? first : room);
  const flush = () => {
    const piece = cur && trimmed(source, b.kind, cur.start, cur.end, b.headings);
    if (piece) out.push(piece);
    cur = null;
  };
  for (const u of units) {
    if (cur && u.end - cur.start <= limit()) cur.end = u.end;
    else {
      flush();
      if (u.end - u.start <= limit()) cur = { ...u };
      else if (b.kind === "list" && source.slice(u.start, u.end).includes("\n"))
        // One item longer than the room: cut it at its lines.
        out.push(...cutLines(source, { ...u, kind: "code" }, limit(), room).map((p) => ({ ...p, kind: b.kind })));
      else out.push(...cutProse(source, u, limit(), room));
    }
  }
  flush();
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
 * chunkText("# Intro\n\nQuiver is...\n\n## Install\n\nnpm install quiverdb", { size: 500, minSize: 10 })
 * // [{ text: "Intro\n\nQuiver is...", headings: ["Intro"], ... }, { text: "Install\n\nnpm install quiverdb", headings: ["Intro", "Install"], ... }]
 */
export function chunkText(text: string, opts: ChunkOptions = {}): Chunk[] {
  const size = Math.max(50, opts.size ?? 1000);
  const overlap = Math.max(0, Math.min(opts.overlap ?? 100, Math.floor(size / 2)));
  const minSize = Math.max(0, Math.min(opts.minSize ?? 200, Math.floor(size / 4)));
  const room = size - overlap - (overlap > 0 ? 1 : 0); // the overlap is joined by a space
  const source = text.replace(/\r\n?/g, "\n");
  const chunks: Chunk[] = [];
  let cur: Block[] = [];
  let len = 0;
  let carry = "";
  const own = () => cur.map((b) => b.text).join("\n\n");
  // A chunk stands alone once it has text beyond headings and reaches minSize.
  const standsAlone = () => len >= minSize && cur.some((b) => b.kind !== "heading");
  const emit = () => {
    const body = own();
    // The heading path of the chunk's text, not of a heading that only leads into it.
    const owner = cur.find((b) => b.kind !== "heading") ?? cur[0];
    chunks.push({
      text: carry ? `${carry} ${body}` : body,
      index: chunks.length,
      headings: owner.headings,
      start: cur[0].start,
      end: cur[cur.length - 1].end,
    });
    carry = tail(body, overlap);
    cur = [];
    len = 0;
  };
  const add = (b: Block) => {
    cur.push(b);
    len += (len > 0 ? 2 : 0) + b.text.length;
  };
  const queue = blocks(source, (opts.format ?? "markdown") === "markdown");
  while (queue.length > 0) {
    const b = queue.shift()!;
    if (b.kind === "heading" && standsAlone()) emit();
    if (b.kind === "heading" && len === 0) carry = "";
    // room + overlap + 1 = size, so the carried overlap always fits.
    const sep = len > 0 ? 2 : 0;
    if (len + sep + b.text.length <= room) {
      add(b);
      continue;
    }
    if (standsAlone()) {
      emit();
      queue.unshift(b);
      continue;
    }
    const atomic = b.kind === "code" || b.kind === "list";
    if (atomic && b.text.length <= size) {
      // Whole, with a lead-in under minSize; the overlap is dropped when it would push past size.
      if (len === 0 && carry.length + 1 + b.text.length > size) carry = "";
      add(b);
      emit();
      continue;
    }
    // Too little gathered to stand alone: fill the rest of the room with the start of this block.
    // (A long run of headings may leave little room: then the lead-in overflows, never loops.)
    const first = Math.max(room - len - sep, Math.floor(room / 2));
    const pieces = atomic ? cutLines(source, b, first, room) : cutProse(source, b, first, room);
    add(pieces[0]);
    emit();
    queue.unshift(...pieces.slice(1));
  }
  if (cur.length > 0) {
    const prev = chunks[chunks.length - 1];
    if (!standsAlone() && prev) {
      prev.text += `\n\n${own()}`;
      prev.end = cur[cur.length - 1].end;
    } else emit();
  }
  return chunks;
}
