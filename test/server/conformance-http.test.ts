/**
 * The conformance suite (test/server/conformance.ts) through the HTTP client against a real
 * server on 127.0.0.1: the same tests the embedded database passes.
 */
import { connect } from "../../src/client/index.js";
import { conformance } from "./conformance.js";
import { ADMIN_KEY, startTestServer } from "./helpers.js";

conformance("http client", async () => {
  const s = await startTestServer();
  return { db: connect(s.url, { apiKey: ADMIN_KEY }), teardown: () => s.close() };
});
