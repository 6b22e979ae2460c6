/** The database, directory, server-app and client tests under Bun (`bun test`): see test/support/runtime-suite.ts. */
import { suiteUnder } from "../support/runtime-suite.js";

suiteUnder("bun");
