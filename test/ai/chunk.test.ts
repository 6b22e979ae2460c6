/** Chunking (headings, paragraphs, code blocks, lists, size, overlap, minimum, offsets) and HTML conversion. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chunkText } from "../../src/embed/chunk.js";
import { htmlToText, htmlTitle } from "../../src/embed/html.js";

test("splits at headings first, keeps the heading path and offsets", () => {
  const md = "# Guide\n\nIntro text here.\n\n## Install\n\nRun npm install.\n\n## Use\n\nCall open().";
  const chunks = chunkText(md, { size: 500, minSize: 0 });
  assert.deepEqual(
    chunks.map((c) => c.headings),
    [["Guide"], ["Guide", "Install"], ["Guide", "Use"]],
  );
  assert.equal(chunks[1].text, "Install\n\nRun npm install.");
  assert.equal(md.slice(chunks[2].start, chunks[2].end), "## Use\n\nCall open().");
  assert.deepEqual(
    chunks.map((c) => c.index),
    [0, 1, 2],
  );
});

test("packs paragraphs up to the size, cuts long ones at sentences, overlaps whole words", () => {
  const para = (i: number) => `Paragraph ${i} says something. `.repeat(4).trim();
  const text = Array.from({ length: 10 }, (_, i) => para(i)).join("\n\n");
  const chunks = chunkText(text, { size: 300, overlap: 40, format: "text" });
  assert.ok(chunks.length >= 3);
  for (const c of chunks) assert.ok(c.text.length <= 300, `chunk of ${c.text.length}`);
  // The second chunk starts with the end of the first.
  const tailWords = chunks[0].text.split(" ").slice(-3).join(" ");
  assert.ok(
    chunks[1].text.startsWith(tailWords.split(" ").slice(-1)[0]) ||
      chunks[1].text.includes(tailWords.split(" ").slice(-1)[0]),
  );
  const long = "word ".repeat(500);
  for (const c of chunkText(long, { size: 200, overlap: 0 })) assert.ok(c.text.length <= 200);
  assert.deepEqual(chunkText("   \n\n  "), []);
});

const HEADING_LINE = /^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm;
/** Blank-line runs as one blank line: blocks are joined by exactly one. */
const blankRuns = (s: string) => s.replace(/\n[ \t]*(\n[ \t]*)+/g, "\n\n");
/** A chunk's own text (no overlap) is the source between its offsets, headings as their titles. */
function assertOffsets(source: string, chunks: { text: string; start: number; end: number }[]): void {
  for (const c of chunks) {
    const own = blankRuns(source.slice(c.start, c.end).replace(HEADING_LINE, "$1"));
    assert.equal(blankRuns(c.text), own, `chunk at ${c.start}..${c.end}`);
  }
}
const sentence = (i: number) => `Sentence number ${i} explains one more detail of the setup.`;
const prose = (n: number, from = 0) => Array.from({ length: n }, (_, i) => sentence(from + i)).join(" ");

test("a heading is never a chunk of its own; short sections run on into the next", () => {
  const md = `# Tool\n\n## Configuration\n\n### Options\n\n${prose(6)}\n\n## Sponsors\n\n## API\n\n${prose(8, 10)}\n`;
  const chunks = chunkText(md, { size: 500, overlap: 0 });
  const titles = new Set(["Tool", "Configuration", "Options", "Sponsors", "API"]);
  for (const c of chunks) {
    assert.ok(!c.text.split("\n\n").every((p) => titles.has(p)), `heading-only chunk ${JSON.stringify(c.text)}`);
    assert.ok(c.text.length >= 125, `short chunk ${JSON.stringify(c.text)}`);
  }
  // The first chunk carries the whole heading path and the heading path of its text.
  assert.ok(chunks[0].text.startsWith("Tool\n\nConfiguration\n\nOptions\n\nSentence number 0"));
  assert.deepEqual(chunks[0].headings, ["Tool", "Configuration", "Options"]);
  assert.ok(chunks.some((c) => c.text.startsWith("Sponsors\n\nAPI\n\nSentence number 10")));
  assertOffsets(md, chunks);
});

test("a short end is folded into the chunk before; a short document stays one short chunk", () => {
  const md = `# Guide\n\n${prose(12)}\n\n## License\n\nMIT\n`;
  const chunks = chunkText(md, { size: 500, overlap: 0 });
  const last = chunks[chunks.length - 1];
  assert.ok(last.text.endsWith("License\n\nMIT"), JSON.stringify(last.text));
  assert.ok(last.text.length > 100);
  assert.equal(last.end, md.trimEnd().length);
  assertOffsets(md, chunks);
  assert.deepEqual(
    chunkText("# License\n\nMIT").map((c) => [c.text, c.headings]),
    [["License\n\nMIT", ["License"]]],
  );
});

test("a code block is kept whole up to size, and cut only at line ends beyond it", () => {
  const code = Array.from({ length: 24 }, (_, i) => `const value${i} = compute(${i}); // step ${i}`).join("\n");
  const md = `# Usage\n\n${prose(4)}\n\n\u0060\u0060\u0060js\n${code}\n\u0060\u0060\u0060\n\nAfter the code.`;
  const block = md.slice(md.indexOf("\u0060\u0060\u0060"), md.lastIndexOf("\u0060\u0060\u0060") + 3);
  assert.ok(block.length > 900 && block.length <= 1000); // over the room (size - overlap), within size
  const chunks = chunkText(md, { size: 1000, overlap: 100 });
  assert.ok(
    chunks.some((c) => c.text.includes(block)),
    "code block cut",
  );
  assertOffsets(md, chunkText(md, { size: 1000, overlap: 0 }));
  // Beyond size: pieces of whole lines.
  const big = chunkText(md, { size: 400, overlap: 0 });
  assert.ok(big.length >= 3);
  for (const c of big) {
    assert.ok(c.start === 0 || md[c.start - 1] === "\n", `starts mid-line: ${JSON.stringify(c.text.slice(0, 40))}`);
    assert.ok(c.end === md.length || md[c.end] === "\n", `ends mid-line: ${JSON.stringify(c.text.slice(-40))}`);
  }
  assertOffsets(md, big);
});

test("a list is not split between chunks, and a long one only between items", () => {
  const item = (i: number) => `- item ${i}: a setting with a default value and a note`;
  const loose = Array.from({ length: 5 }, (_, i) => item(i)).join("\n\n");
  const md = `${prose(5)}\n\n${loose}\n\n${prose(2, 20)}`;
  const chunks = chunkText(md, { size: 500, overlap: 100, format: "markdown" });
  assert.ok(
    chunks.some((c) => c.text.includes(loose)),
    "list split",
  );
  const tight = Array.from({ length: 30 }, (_, i) => item(i)).join("\n");
  const long = chunkText(`# Settings\n\n${tight}`, { size: 500, overlap: 0 });
  assert.ok(long.length >= 3);
  for (const c of long) assert.match(c.text, /(^|\n)- item \d+: a setting with a default value and a note$/);
  for (const c of long.slice(1)) assert.match(c.text, /^- item \d+/);
  assertOffsets(`# Settings\n\n${tight}`, long);
});

test("code fences do not start sections", () => {
  const chunks = chunkText("# A\n\n```sh\n# not a heading\nls\n```\n", { size: 500 });
  assert.equal(chunks.length, 1);
  assert.match(chunks[0].text, /# not a heading/);
});

test("HTML becomes headings and paragraphs, without scripts or entities", () => {
  const html = `<html><head><title>T &amp; U</title><style>p{}</style></head><body><h1>Title</h1><p>One &lt;b&gt; &#233;t&#xE9;</p><script>alert(1)</script><ul><li>a</li><li>b</li></ul></body></html>`;
  assert.equal(htmlTitle(html), "T & U");
  const text = htmlToText(html);
  assert.equal(text, "# Title\n\nOne <b> été\n\n- a\n\n- b");
});
