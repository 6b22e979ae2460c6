/**
 * HTML to text for chunking: drops scripts, styles and markup, keeps headings as Markdown `#`
 * lines and block elements as paragraph breaks, and decodes entities. A small, forgiving
 * converter for documents, not a browser: it never executes or fetches anything.
 */

/** A Map, not an object literal: an entity named `&constructor;` must not reach Object.prototype. */
const ENTITIES = new Map<string, string>(
  Object.entries({
    amp: "&",
    lt: "<",
    gt: ">",
    quot: '"',
    apos: "'",
    nbsp: " ",
    mdash: "—",
    ndash: "–",
    hellip: "…",
    copy: "©",
    rsquo: "’",
    lsquo: "‘",
    rdquo: "”",
    ldquo: "“",
  }),
);

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === "#") {
      const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES.get(e.toLowerCase()) ?? m;
  });
}

/** The document's `<title>`, if any. */
export function htmlTitle(html: string): string | undefined {
  const m = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  const t = m
    ? decodeEntities(m[1].replace(/<[^>]+>/g, ""))
        .replace(/\s+/g, " ")
        .trim()
    : "";
  return t || undefined;
}

/** Converts HTML to Markdown-like text: `# heading` lines and blank-line separated paragraphs. */
export function htmlToText(html: string): string {
  let s = html
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/<(script|style|noscript|template|svg|head)\b[\s\S]*?<\/\1\s*>/gi, " ")
    .replace(
      /<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1\s*>/gi,
      (_m, level: string, inner: string) =>
        `\n\n${"#".repeat(Number(level))} ${inner
          .replace(/<[^>]+>/g, " ")
          .replace(/\s+/g, " ")
          .trim()}\n\n`,
    )
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<li\b[^>]*>/gi, "\n\n- ")
    .replace(
      /<\/?(p|div|section|article|header|footer|main|nav|aside|blockquote|pre|table|tr|ul|ol|dl|dt|dd|figure|figcaption|hr)\b[^>]*>/gi,
      "\n\n",
    )
    .replace(/<\/?(td|th)\b[^>]*>/gi, " ")
    .replace(/<[^>]+>/g, "");
  s = decodeEntities(s);
  return s
    .split(/\n{2,}/)
    .map((p) =>
      p
        .replace(/[ \t\r\f\v]+/g, " ")
        .replace(/ *\n */g, "\n")
        .trim(),
    )
    .filter((p) => p.length > 0)
    .join("\n\n");
}
