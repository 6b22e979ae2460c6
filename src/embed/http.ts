/**
 * The HTTP call shared by the hosted providers: JSON POST with a timeout, and a mapping of
 * responses to EmbedderError (429 and 5xx and network faults retryable, with Retry-After read).
 */
import { EmbedderError } from "./embedder.js";

export interface HttpOptions {
  /** Per-request timeout in ms (default 60,000). */
  timeoutMs?: number;
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof fetch;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** Retry-After as seconds or an HTTP date; OpenAI's `retry-after-ms` first. */
function retryAfter(res: Response): number | undefined {
  const ms = Number(res.headers.get("retry-after-ms"));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const h = res.headers.get("retry-after");
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    const m = typeof j.error === "string" ? j.error : (j.error?.message ?? j.message);
    if (m) return m;
  } catch {
    // not JSON: show the start of the text
  }
  return body.slice(0, 200) || "(empty body)";
}

export async function postJson(
  url: string,
  body: unknown,
  label: string,
  opts: HttpOptions,
  signal?: AbortSignal,
): Promise<unknown> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 60_000);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...opts.headers },
      body: JSON.stringify(body),
      signal: combined,
    });
  } catch (e) {
    if (signal?.aborted) throw e;
    const why = timeout.aborted
      ? `timed out after ${opts.timeoutMs ?? 60_000} ms`
      : e instanceof Error
        ? `${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ""}`
        : String(e);
    throw new EmbedderError(`${label}: request to ${url} failed: ${why}`, true, { cause: e });
  }
  const text = await res.text();
  if (!res.ok) {
    const retryable = res.status === 429 || res.status === 408 || res.status >= 500;
    const hint =
      res.status === 401 || res.status === 403
        ? " (check the API key)"
        : res.status === 404
          ? " (check the base URL and model name)"
          : "";
    throw new EmbedderError(`${label}: HTTP ${res.status}: ${errorText(text)}${hint}`, retryable, {
      status: res.status,
      retryAfterMs: retryAfter(res),
    });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new EmbedderError(`${label}: the response is not JSON: ${text.slice(0, 120)}`, false);
  }
}

/** Checks a decoded vector: an array of finite numbers of the expected length. */
export function toVector(v: unknown, label: string, dim?: number): Float32Array {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
    throw new EmbedderError(`${label}: the response holds something other than an array of numbers`, false);
  }
  if (dim !== undefined && v.length !== dim)
    throw new EmbedderError(`${label}: expected ${dim} dimensions, the response has ${v.length}`, false);
  return Float32Array.from(v as number[]);
}

/**
 * The vectors of an OpenAI-style response (`{ data: [{ embedding, index }] }`), one per input in
 * input order, each checked; used by every provider that answers in that shape.
 */
export function embeddingList(json: unknown, count: number, label: string, dim?: number): Float32Array[] {
  const data = (json as { data?: { embedding?: unknown; index?: number }[] } | null)?.data;
  if (!Array.isArray(data) || data.length !== count) {
    throw new EmbedderError(
      `${label}: expected ${count} embeddings in "data", got ${Array.isArray(data) ? data.length : "none"}`,
      false,
    );
  }
  const out = new Array<Float32Array>(count);
  data.forEach((d, i) => {
    const at = typeof d.index === "number" ? d.index : i;
    if (at < 0 || at >= count || out[at]) throw new EmbedderError(`${label}: bad index ${at} in the response`, false);
    out[at] = toVector(d.embedding, label, dim);
  });
  return out;
}
