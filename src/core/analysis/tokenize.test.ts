// Windowed dictionary segmentation: the same words as unbounded segmentation for ordinary text,
// and never more than SEGMENT_WINDOW characters handed to Intl.Segmenter at once (its cost is
// super-linear in the length of one call, so a long unbroken run used to stall the process).
import { test } from "node:test";
import assert from "node:assert/strict";
import { SEGMENT_WINDOW, segmentWords } from "./tokenize.js";

const CHINESE =
  "我们在北京大学学习中文今天天气很好我们去公园散步然后在图书馆看书" +
  "中华人民共和国成立于一九四九年首都是北京人口众多历史悠久文化灿烂" +
  "计算机科学是研究信息与计算的理论基础以及它们在计算机系统中的实现与应用";
const THAI = "สวัสดีครับวันนี้อากาศดีมากผมอยากไปเที่ยวทะเลกับครอบครัวของผมในวันหยุดสุดสัปดาห์นี้";
const JAPANESE = "東京都に住んでいます私は毎朝コーヒーを飲みながら新聞を読みます日本語の勉強は楽しいです";
// Han beyond the BMP (surrogate pairs) must never be split at a window edge.
const ASTRAL = "𠀀𠀁𠀂我们𠀃北京𠀄大学".repeat(3);

test("windowed segmentation finds the same words as one unbounded call, in every script", () => {
  for (const text of [CHINESE.repeat(20), THAI.repeat(20), JAPANESE.repeat(20), ASTRAL.repeat(10)]) {
    const whole = segmentWords(text, [], Number.MAX_SAFE_INTEGER);
    for (const window of [97, 128, 301, 1000]) {
      assert.deepEqual(segmentWords(text, [], window, 32), whole, `window ${window}, text ${text.slice(0, 8)}…`);
    }
  }
});

test("a long unbroken run reaches Intl.Segmenter in windows of at most SEGMENT_WINDOW characters", () => {
  const original = Intl.Segmenter.prototype.segment;
  let longest = 0;
  let calls = 0;
  Intl.Segmenter.prototype.segment = function (this: Intl.Segmenter, input: string) {
    longest = Math.max(longest, input.length);
    calls++;
    return original.call(this, input);
  };
  try {
    const text = CHINESE.repeat(Math.ceil(50_000 / CHINESE.length));
    const words = segmentWords(text);
    assert.ok(calls > 1, "the run was split into windows");
    assert.ok(longest <= SEGMENT_WINDOW, `longest call ${longest} > ${SEGMENT_WINDOW}`);
    assert.equal(words.join(""), text, "every character of the run lands in exactly one word");
  } finally {
    Intl.Segmenter.prototype.segment = original;
  }
});
