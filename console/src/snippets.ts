/** The equivalent `curl` and `quiverdb/client` code of a query, for the user to copy (the key as $QUIVER_KEY, never inlined). */
export function curlSnippet(origin: string, collection: string, body: unknown): string {
  const json = JSON.stringify(body).replace(/'/g, "'\\''");
  return [
    `curl -X POST ${origin}/v1/collections/${encodeURIComponent(collection)}/query \\`,
    `  -H "Authorization: Bearer $QUIVER_KEY" -H "content-type: application/json" \\`,
    `  -d '${json}'`,
  ].join("\n");
}

export function clientSnippet(origin: string, collection: string, body: unknown): string {
  return [
    `import { connect } from "quiverdb/client";`,
    `const db = connect(${JSON.stringify(origin)}, { apiKey: process.env.QUIVER_KEY });`,
    `const coll = await db.collection(${JSON.stringify(collection)});`,
    `const { hits, plan } = await coll.query(${JSON.stringify(body, null, 2)});`,
  ].join("\n");
}
