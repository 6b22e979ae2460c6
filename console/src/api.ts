/**
 * The console's one door to the server: a `quiverdb/client` connection with the signed-in key,
 * and the few admin routes the Database API does not model (keys, usage, the key's own record),
 * called through the same client so errors arrive as the same QuiverErrors with their paths.
 * The key lives in sessionStorage (gone with the tab), never in the URL.
 */
import { connect, QuiverError, type QuiverClient } from "quiverdb/client";

export type Scope = "admin" | "write" | "read";

/** A key as the server lists it (never the key itself, nor its hash). */
export interface KeyInfo {
  id: string;
  name: string;
  scope: Scope;
  collections?: string[];
  prefix?: string;
  quota?: { readUnits?: number; writeUnits?: number };
  createdAt?: string;
}

export interface Session {
  client: QuiverClient;
  /** The signed-in key's record (GET /v1/key): what the console may offer. */
  key: KeyInfo;
  /** The key itself, for the snippets the user copies. */
  apiKey: string;
  origin: string;
}

const STORAGE_KEY = "quiver.console.apiKey";

/** Checks the key with the server (GET /v1/key) and keeps it for this tab. */
export async function signIn(apiKey: string): Promise<Session> {
  const origin = location.origin;
  const client = connect(origin, { apiKey });
  const key = await client.request<KeyInfo>("GET", "/v1/key");
  sessionStorage.setItem(STORAGE_KEY, apiKey);
  return { client, key, apiKey, origin };
}

/** The key kept by an earlier sign-in in this tab, if any. */
export function storedKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function signOut(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

/** Whether the signed-in key's scope includes `scope` (what is not allowed is not shown). */
export function can(session: Session, scope: Scope): boolean {
  return RANK[session.key.scope] >= RANK[scope];
}

/** An error as the console shows it: code, message, and every problem with its path. */
export interface ShownError {
  code: string;
  message: string;
  problems: { path: string; message: string }[];
}

export function shownError(e: unknown): ShownError {
  if (e instanceof QuiverError) return { code: e.code, message: e.message, problems: [...e.problems] };
  return { code: "ERROR", message: e instanceof Error ? e.message : String(e), problems: [] };
}

/** Parses a JSON text field; an empty field is `undefined`, bad JSON a ShownError at path "". */
export function parseJsonField(text: string, what: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new QuiverError("INVALID_ARGUMENT", `the ${what} is not valid JSON`, {
      problems: [{ path: "", message: e instanceof Error ? e.message : String(e) }],
    });
  }
}
