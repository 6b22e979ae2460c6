/**
 * `quiver serve --cluster` on Node: etcd (EtcdCoordinator) and S3 (S3ObjectStore) behind the seams,
 * a ClusterNode, and the ordinary server app (src/server) over the cluster's DatabaseApi, with keys
 * kept in etcd. In front of the app, on the same port: node-to-node calls (`/_cluster/v1/*`, the
 * cluster secret from etcd) and the two request headers of a cluster read, `Quiver-Min-Seq` (JSON
 * `{ shard: seq }`, what a write returned) and `Quiver-Allow-Partial: true`, handed to the router
 * through an AsyncLocalStorage so that the app and the public API stay unchanged.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CollectionSchema } from "../../core/schema/schema.js";
import { DEFAULT_LIMITS, type Limits } from "../../api/limits.js";
import { type Problem, QuiverError } from "../../core/errors/errors.js";
import type { InputHook } from "../../database/collection.js";
import { checkQueryTextLength } from "../../database/query-request.js";
import { checkName, validateIds, validateRecords, validateSchema } from "../../database/validate.js";
import { defaultTextPlugins } from "../../analyzers/plugins.js";
import { type HttpServerHandle, serveApp } from "../../node/http-server.js";
import type { AppOptions, AppRequest, AppResponse } from "../../server/app.js";
import type { ConsoleAssets } from "../../server/console.js";
import { type QuiverServer, startQuiverServer } from "../../server/index.js";
import { MemoryDirectory } from "../../storage/memory-directory.js";
import { EtcdCoordinator } from "../etcd/etcd-coordinator.js";
import type { Role } from "../members.js";
import type { IndexerSettings } from "../indexer.js";
import { ClusterNode } from "../node.js";
import { DiskCacheFiles } from "../node/disk-cache-files.js";
import { HttpPeerClient, PEER_PATH_PREFIX, answerPeer } from "../peers.js";
import { ClusterDatabase, type RequestScope } from "../router.js";
import { S3ObjectStore } from "../s3/s3-object-store.js";
import { SegmentCache } from "../segment-cache.js";
import type { ClusterConfig } from "./options.js";
import { catalogKeyFile } from "./catalog-key-file.js";
import { ClusterUsage } from "./cluster-usage.js";

export interface ClusterServeOptions extends ClusterConfig {
  host: string;
  port: number;
  /** The URL other nodes reach this one at (default: http://host:port as bound). */
  advertise?: string;
  /** How often usage counted here is added to the cluster's totals in etcd (default 5 s; also on close). */
  usageFlushMs?: number;
  /** Key prefix of this cluster in etcd (default "quiver/"). */
  etcdPrefix?: string;
  defaultShards?: number;
  replicas?: number;
  leaseTtlMs?: number;
  /** The disk cache of sealed segments and graphs (default <tmpdir>/quiver-cache/<node id>). */
  cacheDir?: string;
  /** Its bound in bytes (default 4 GiB), least recently used evicted first. */
  cacheMaxBytes?: number;
  /** The indexer role's compaction thresholds and garbage-collection grace. */
  indexer?: IndexerSettings;
  adminKey?: string;
  limits?: Partial<Limits>;
  log?: (line: string) => void;
  onWarning?: (message: string) => void;
  /** Background work of the node's roles (compactions), one line each. */
  onEvent?: (message: string) => void;
  /** /mcp, as on one node (the CLI passes the MCP SDK's handler; this folder imports no npm). */
  mcp?: AppOptions["mcp"];
  /** The console's files, served at /console as on one node. */
  console?: ConsoleAssets;
  /**
   * Text in place of vectors, embedded by the node that receives the request: the CLI passes an
   * EmbedderRegistry of the same embedders as single-node `quiver serve` (src/embed/node/config.ts).
   */
  input?: InputHook;
}

export interface ClusterServer {
  node: ClusterNode;
  db: ClusterDatabase;
  server: QuiverServer;
  http: HttpServerHandle;
  /** Leaves the cluster (shards released at once), finishes requests in flight, closes the clients. */
  close(): Promise<void>;
}

const SECRET_KEY = "cluster/secret";
const DEFAULT_CACHE_BYTES = 4 * 1024 ** 3;

/** Per node id, so that nodes sharing a machine (and a temp folder) never share a cache. */
export const defaultCacheDir = (nodeId: string): string => join(tmpdir(), "quiver-cache", nodeId);

export async function startClusterServer(o: ClusterServeOptions): Promise<ClusterServer> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...o.limits };
  const coordinator = new EtcdCoordinator({ endpoints: o.etcdEndpoints, prefix: o.etcdPrefix ?? "quiver/" });
  const objects = new S3ObjectStore({ ...o.s3 });
  try {
    const secret = await clusterSecret(coordinator);
    const scopes = new AsyncLocalStorage<RequestScope>();
    const http = await serveApp({ exchange: (request) => route(request) }, { host: o.host, port: o.port });
    const cache = new SegmentCache(
      await DiskCacheFiles.open(o.cacheDir ?? defaultCacheDir(o.nodeId)),
      objects,
      o.cacheMaxBytes ?? DEFAULT_CACHE_BYTES,
    );
    const node = new ClusterNode({
      catalog: coordinator,
      commitLog: coordinator,
      leases: coordinator,
      objects,
      self: { id: o.nodeId, address: o.advertise ?? http.url, roles: o.roles as Role[] },
      leaseTtlMs: o.leaseTtlMs,
      replicas: o.replicas,
      onWarning: o.onWarning,
      onEvent: o.onEvent,
      fetchSealed: (key, sha256) => cache.get(key, sha256),
      // The replicas' analyzers: the same language resources the router validates schemas with.
      databaseOptions: { limits, text: defaultTextPlugins },
      indexer: o.indexer,
    });
    const db = new ClusterDatabase({
      node,
      peers: new HttpPeerClient(secret, 30_000),
      catalog: coordinator,
      leases: coordinator,
      defaultShards: o.defaultShards,
      requestScope: () => scopes.getStore(),
      validateSchema: (name: string, schema: CollectionSchema) => {
        const problems: Problem[] = [];
        checkName(name, "name", problems);
        if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
        return validateSchema(schema, limits, defaultTextPlugins);
      },
      validateRecords: (schema, records) => void validateRecords(records, schema, limits),
      validateIds: (ids) => void validateIds(ids, limits),
      checkQueryText: (req) => checkQueryTextLength(req, limits),
      input: o.input,
    });
    const server = await startQuiverServer({
      db,
      dir: new MemoryDirectory(),
      keyFile: catalogKeyFile(coordinator),
      limits,
      adminKey: o.adminKey,
      onWarning: o.onWarning,
      mcp: o.mcp,
      console: o.console,
      log: o.log ? (entry) => o.log?.(JSON.stringify({ node: o.nodeId, ...entry })) : undefined,
    });
    // Usage counted here is added up in etcd with every other node's (cluster-usage.ts).
    const usage = new ClusterUsage(coordinator, server.usage, { flushMs: o.usageFlushMs, onWarning: o.onWarning });
    let started: Promise<void> | null = null;
    const route = async (request: AppRequest): Promise<AppResponse | Response> => {
      await started;
      const path = new URL(request.url, "http://node").pathname;
      if (path.startsWith(PEER_PATH_PREFIX)) {
        const body = await readAll(request);
        const answer = await answerPeer(
          secret,
          request.header("authorization"),
          path.slice(PEER_PATH_PREFIX.length),
          body,
          (op, b) => (op === "status" ? Promise.resolve(node.status()) : node.handlePeer(op, b)),
        );
        return { status: answer.status, headers: { "content-type": "application/json" }, body: answer.body };
      }
      let scope: RequestScope;
      try {
        scope = scopeOf(request);
      } catch (error) {
        const e = error as QuiverError;
        return { status: 400, headers: { "content-type": "application/json" }, body: JSON.stringify(e.toJSON()) };
      }
      return scopes.run(scope, () => server.app.exchange(request));
    };
    started = node.start();
    await started;
    usage.start();
    if (server.generatedAdminKey)
      o.log?.(`admin key (shown once; its hash is kept in etcd): ${server.generatedAdminKey}`);
    return {
      node,
      db,
      server,
      http,
      async close() {
        await node.close();
        await http.close(2000);
        await server.flush();
        await usage.close();
        coordinator.close();
      },
    };
  } catch (error) {
    coordinator.close();
    throw error;
  }
}

/** The secret nodes present to each other: created once per cluster, kept in etcd. */
async function clusterSecret(coordinator: EtcdCoordinator): Promise<string> {
  for (;;) {
    const found = await coordinator.get(SECRET_KEY);
    if (found) return found.value;
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const secret = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    if (await coordinator.put(SECRET_KEY, secret, 0)) return secret;
  }
}

/** The cluster headers of a request; malformed ones are a 400 naming the header. */
function scopeOf(request: AppRequest): RequestScope {
  const scope: RequestScope = {};
  const minSeq = request.header("quiver-min-seq");
  if (minSeq !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(minSeq);
    } catch {}
    const valid =
      typeof parsed === "object" &&
      parsed !== null &&
      !Array.isArray(parsed) &&
      Object.entries(parsed).every(([k, v]) => /^\d+$/.test(k) && Number.isInteger(v) && (v as number) >= 0);
    if (!valid)
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path: "Quiver-Min-Seq", message: 'must be JSON {"<shard>": seq}, as a write returned in "seqs"' },
      ]);
    scope.minSeq = parsed as Record<string, number>;
  }
  const partial = request.header("quiver-allow-partial");
  if (partial !== null) scope.allowPartial = partial.toLowerCase() === "true";
  return scope;
}

async function readAll(request: AppRequest): Promise<string> {
  const body = request.body();
  if (!body) return "{}";
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await body.next();
    if (done) break;
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
