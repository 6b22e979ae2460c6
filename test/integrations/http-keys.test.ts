/**
 * The framework stores over HTTP with scoped API keys: a read key searches but cannot write or
 * delete (FORBIDDEN), and a key whose reach excludes the collection sees none (NOT_FOUND), as the
 * server's own API answers; the stores add no path around the keys.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Document } from "@langchain/core/documents";
import { SyntheticEmbeddings } from "@langchain/core/utils/testing";
import { QuiverVectorStore as LangChainStore } from "../../src/integrations/langchain/index.js";
import { QuiverVectorStore as LlamaIndexStore } from "../../src/integrations/llamaindex/index.js";
import { connect } from "../../src/client/index.js";
import { isQuiverError } from "../../src/index.js";
import { ADMIN_KEY, startTestServer } from "../server/helpers.js";
import { LetterEmbedding } from "./letter-embedding.js";

const server = await startTestServer();
after(() => server.close());
const embeddings = new SyntheticEmbeddings({ vectorSize: 8 });
const keyFor = async (body: object): Promise<string> => (await server.call("POST", "/v1/keys", { body })).json.key;

test("a read key searches through the stores but cannot write or delete; an outside key sees nothing", async () => {
  const admin = connect(server.url, { apiKey: ADMIN_KEY });
  await LangChainStore.fromTexts(["alpha beta", "gamma delta"], {}, embeddings, {
    db: admin,
    collectionName: "t-docs",
  });
  const reader = connect(server.url, { apiKey: await keyFor({ scope: "read", prefix: "t-" }) });
  const outsider = connect(server.url, { apiKey: await keyFor({ scope: "write", prefix: "other-" }) });

  const readStore = new LangChainStore(embeddings, { db: reader, collectionName: "t-docs" });
  const [hit] = await readStore.similaritySearch("gamma delta", 1);
  assert.equal(hit.pageContent, "gamma delta");
  await assert.rejects(readStore.addDocuments([new Document({ pageContent: "no" })]), (e) =>
    isQuiverError(e, "FORBIDDEN"),
  );
  await assert.rejects(readStore.delete({ filter: {} }), (e) => isQuiverError(e, "FORBIDDEN"));
  await assert.rejects(
    new LlamaIndexStore({ db: reader, collectionName: "t-docs", embedModel: new LetterEmbedding() }).delete("d"),
    (e) => isQuiverError(e, "FORBIDDEN"),
  );

  const outside = new LangChainStore(embeddings, { db: outsider, collectionName: "t-docs" });
  await assert.rejects(outside.similaritySearch("alpha"), (e) => isQuiverError(e, "NOT_FOUND"));
  assert.equal(await (await admin.collection("t-docs")).count(), 2);
});
