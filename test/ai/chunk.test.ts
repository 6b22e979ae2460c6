/** Chunking (headings, paragraphs, size, overlap, offsets) and HTML conversion. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chunkText } from "../../src/embed/chunk.js";
import { htmlToText, htmlTitle } from "../../src/embed/html.js";

test("splits at headings first, keeps the heading path and offsets", () => {
  const md = "# Guide\n\nIntro text here.\n\n## Install\n\nRun npm install.\n\n## Use\n\nCall open().";
  const chunks = chunkText(md, { size: 500 });
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
