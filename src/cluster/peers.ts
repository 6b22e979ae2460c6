/**
 * Node-to-node calls: `POST <address>/_cluster/v1/<op>` with a JSON body, authenticated by the
 * cluster's shared secret (kept in the Catalog, so only what can read etcd can call a node). Errors
 * travel as `{ code, message, problems }` and come back as the same QuiverError; a peer that cannot
 * be reached, or does not answer in time, is UNAVAILABLE, which the router treats as "try another".
 */
import { ERROR_CATALOG, type ErrorCode, type Problem, QuiverError, isQuiverError } from "../core/errors/errors.js";

export const PEER_PATH_PREFIX = "/_cluster/v1/";

/** JSON with typed arrays (vectors) as plain arrays. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v,
  );
}

export interface PeerClient {
  call<T>(address: string, op: string, body: unknown): Promise<T>;
}

export class HttpPeerClient implements PeerClient {
  constructor(
    private readonly secret: string,
    private readonly timeoutMs: number,
  ) {}

  async call<T>(address: string, op: string, body: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${address}${PEER_PATH_PREFIX}${op}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.secret}` },
        body: toJson(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new QuiverError("UNAVAILABLE", `node ${address} did not answer ${op} (${String(error)})`, { cause: error });
    }
    const text = await response.text().catch(() => "");
    if (response.ok) return JSON.parse(text) as T;
    let parsed: { code?: string; message?: string; problems?: Problem[] } = {};
    try {
      parsed = JSON.parse(text);
    } catch {}
    const code = (parsed.code && parsed.code in ERROR_CATALOG ? parsed.code : "UNAVAILABLE") as ErrorCode;
    throw new QuiverError(code, parsed.message ?? `node ${address} answered ${response.status} to ${op}`, {
      problems: parsed.problems,
    });
  }
}

/** What a node answers to a peer's call: `handle(op, body)` or an error as JSON with its status. */
export async function answerPeer(
  secret: string,
  authorization: string | null,
  op: string,
  bodyText: string,
  handle: (op: string, body: Record<string, unknown>) => Promise<unknown>,
): Promise<{ status: number; body: string }> {
  if (authorization !== `Bearer ${secret}`)
    return errorAnswer(new QuiverError("UNAUTHORIZED", "not a node of this cluster"));
  try {
    return { status: 200, body: toJson((await handle(op, JSON.parse(bodyText))) ?? null) };
  } catch (error) {
    return errorAnswer(error);
  }
}

function errorAnswer(error: unknown): { status: number; body: string } {
  const e = isQuiverError(error) ? error : new QuiverError("INTERNAL", String(error), { cause: error });
  return {
    status: ERROR_CATALOG[e.code].status,
    body: JSON.stringify({ code: e.code, message: e.message, problems: e.problems }),
  };
}
