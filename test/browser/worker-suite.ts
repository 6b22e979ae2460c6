/**
 * The browser suite's Worker half, bundled by chromium.test.ts and started by page-suite.ts: directory
 * conformance for OPFS (synchronous access handles exist only in Workers) and the database basics on
 * OPFS through the web entry's `open(name)`; posts its results to the page.
 */
import { runRegistered } from "./shims/node-test.js";
import { OpfsDirectory } from "../../src/browser/opfs-directory.js";
import { open } from "../../src/web.js";
import { directoryConformance } from "../storage/directory-conformance.js";
import { databaseBasics } from "./database-basics.js";

let n = 0;
directoryConformance(
  "OPFS (Chromium dedicated Worker)",
  async () => {
    const path = `conformance-${Date.now()}-${n++}`;
    const dir = await OpfsDirectory.open(path);
    return { dir, cleanup: () => OpfsDirectory.destroy(path) };
  },
  { scratch: false },
);
const name = `basics-${Date.now()}`;
databaseBasics("Chromium Worker, OPFS via open(name)", {
  open: () => open(name),
  reopenable: true,
  cleanup: () => OpfsDirectory.destroy(name),
});

postMessage(await runRegistered("worker"));
