/**
 * The two ways a framework store reaches Quiver, for suites that run against both: an embedded
 * in-memory database, and the HTTP client against a real server on 127.0.0.1.
 */
import { open, type DatabaseApi } from "../../src/index.js";
import { connect } from "../../src/client/index.js";
import { ADMIN_KEY, startTestServer } from "../server/helpers.js";

export interface Target {
  name: string;
  /** A fresh, empty database and what ends it (the server and its database, for HTTP). */
  start(): Promise<{ db: DatabaseApi; teardown: () => Promise<void> }>;
}

export const TARGETS: Target[] = [
  {
    name: "embedded",
    async start() {
      const db = await open();
      return { db, teardown: () => db.close() };
    },
  },
  {
    name: "http",
    async start() {
      const server = await startTestServer();
      return { db: connect(server.url, { apiKey: ADMIN_KEY }), teardown: () => server.close() };
    },
  },
];
