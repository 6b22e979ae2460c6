// Analyzers: word segmentation in every script (dictionary segmentation for Chinese and Japanese),
// normalisation, the English pipeline with injected resources, the alnum reference tokens, and validation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkTextFieldSpec, createAnalyzer, type TextPlugins } from "./analyzer.js";
import { segmentWords } from "./tokenize.js";

const plugins: TextPlugins = {
  stemmers: { en: (w) => w.replace(/(ing|s)$/, "") },
  stopWords: { en: ["the", "a", "in"], fr: ["le", "la"] },
};

test("segments Chinese and Japanese into words, and keeps UAX #29 words whole elsewhere", () => {
  assert.deepEqual(segmentWords("我们在北京大学学习"), ["我们", "在", "北京", "大学", "学习"]);
  assert.ok(segmentWords("東京都に住んでいます").includes("東京"));
  assert.deepEqual(segmentWords("can't stop: U.S.A. 3.14 state-of-the-art a_b"), [
    "can't",
    "stop",
    "U.S.A",
    "3.14",
    "state",
    "of",
    "the",
    "art",
    "a_b",
  ]);
  assert.deepEqual(segmentWords("Ünïcödé naïve Привет мир 안녕하세요 세계"), [
    "Ünïcödé",
    "naïve",
    "Привет",
    "мир",
    "안녕하세요",
    "세계",
  ]);
  assert.deepEqual(segmentWords("  ,.;!  "), []);
});

test("the standard analyzer normalises (NFKC) and lower-cases", () => {
  const a = createAnalyzer({}, {});
  assert.deepEqual(a.analyze("Ｆｕｌｌ-width ＡＢＣ Straße"), ["full", "width", "abc", "straße"]);
  assert.deepEqual(a.analyze("The CAT"), ["the", "cat"]);
});

test("the english analyzer drops possessives and stop words, then stems, with injected resources", () => {
  const a = createAnalyzer({ analyzer: "english" }, plugins);
  assert.deepEqual(a.analyze("The dog's toys in a running race"), ["dog", "toy", "runn", "race"]);
  assert.deepEqual(
    createAnalyzer({ analyzer: "english", stopWords: false, stem: false }, plugins).analyze("The dogs"),
    ["the", "dogs"],
  );
  assert.deepEqual(createAnalyzer({ stopWords: "fr" }, plugins).analyze("le chat"), ["chat"]);
});

test("the alnum analyzer reproduces [a-z0-9]+ after lower-casing", () => {
  assert.deepEqual(createAnalyzer({ analyzer: "alnum" }, {}).analyze("Don't STOP-me at 3.14, café"), [
    "don",
    "t",
    "stop",
    "me",
    "at",
    "3",
    "14",
    "caf",
  ]);
});

test("field specs are validated with paths, including missing language resources", () => {
  const problems: { path: string; message: string }[] = [];
  checkTextFieldSpec({ analyzer: "english", boost: -1, stopWords: "xx", colour: 1 }, "schema.text.body", {}, problems);
  const paths = problems.map((p) => p.path).sort();
  assert.deepEqual(paths, [
    "schema.text.body.analyzer",
    "schema.text.body.boost",
    "schema.text.body.colour",
    "schema.text.body.stopWords",
  ]);
  assert.throws(() => createAnalyzer({ analyzer: "english" }, {}), /English stemmer/);
});
