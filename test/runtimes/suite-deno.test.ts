/** The database, directory, server-app and client tests under Deno (`deno test`): see test/support/runtime-suite.ts. */
import { suiteUnder } from "../support/runtime-suite.js";

suiteUnder("deno");
