// Entity decoding: named entities come from a fixed table, and a name that happens to be a member
// of Object.prototype is left as written rather than decoded to the member's source text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeEntities } from "./html.js";

test("decodeEntities decodes known, numeric and hex entities and leaves unknown ones, prototype names included", () => {
  assert.equal(decodeEntities("a &amp; b &lt;c&gt; &#65;&#x42; &Mdash;"), "a & b <c> AB —");
  assert.equal(
    decodeEntities("&constructor; &valueOf; &hasOwnProperty; &unknown;"),
    "&constructor; &valueOf; &hasOwnProperty; &unknown;",
  );
});
