/**
 * The conformance suite (test/server/conformance.ts) against the embedded database.
 */
import { open, type Database } from "../../src/index.js";
import type { DatabaseApi } from "../../src/api/types.js";
import { conformance } from "./conformance.js";

// Compile-time check that the embedded class implements the shared interface.
const _check: (db: Database) => DatabaseApi = (db) => db;
void _check;

conformance("embedded", async () => {
  const db = await open();
  return { db, teardown: () => db.close() };
});
