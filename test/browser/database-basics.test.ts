/**
 * The browser's database basics (database-basics.ts) run in Node too, in memory: the suite is held to
 * the same answers in both runtimes, and a failure here separates a suite bug from a browser one.
 */
import { open } from "../../src/index.js";
import { databaseBasics } from "./database-basics.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";

const dir = new MemoryDirectory();
databaseBasics("node, memory directory", { open: () => open(dir), reopenable: true });
