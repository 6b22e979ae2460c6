/**
 * `quiver serve --cluster`: checks the cluster flags (every problem named by its flag), loads the
 * cluster's npm clients (etcd3, @aws-sdk/client-s3) only now, with a clear error when they are not
 * installed, and runs the node until SIGINT / SIGTERM, when it leaves the cluster (its shards are
 * released at once, so their next writer need not wait for a lease to expire).
 */
import { QuiverError } from "../../core/errors/errors.js";
import type { Limits } from "../../index.js";
import { type ClusterFlags, parseClusterFlags } from "../../cluster/serve/options.js";
import { clusterInputFromEnv } from "../../embed/node/config.js";
import { mcpHttpHandler } from "../../mcp/http.js";
import { loadConsoleAssets } from "../../node/console-assets.js";
import { packageVersion } from "../package-version.js";

export interface ClusterServeFlags extends ClusterFlags {
  host: string;
  port: number;
  advertise?: string;
  etcdPrefix?: string;
  shards?: number;
  replicas?: number;
  leaseMs?: number;
  cacheDir?: string;
  cacheMaxBytes?: number;
  compactAfter?: number;
  compactAfterRecords?: number;
  compactAfterBytes?: number;
  gcGraceMs?: number;
  log: boolean;
}

export async function serveCluster(opts: ClusterServeFlags, limits: Partial<Limits>): Promise<void> {
  const config = parseClusterFlags(opts, process.env);
  let cluster: typeof import("../../cluster/serve/cluster-server.js");
  try {
    cluster = await import("../../cluster/serve/cluster-server.js");
  } catch (error) {
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec(String(error))?.[1];
    if (!missing) throw error;
    throw new QuiverError(
      "INVALID_ARGUMENT",
      `quiver serve --cluster needs the npm package ${missing}: npm install etcd3 @aws-sdk/client-s3`,
      { cause: error },
    );
  }
  const warn = (w: string) => process.stderr.write(`warning: ${w}\n`);
  const embedders = clusterInputFromEnv();
  const node = await cluster.startClusterServer({
    ...config,
    host: opts.host,
    port: opts.port,
    advertise: opts.advertise,
    etcdPrefix: opts.etcdPrefix,
    defaultShards: opts.shards,
    replicas: opts.replicas,
    leaseTtlMs: opts.leaseMs,
    cacheDir: opts.cacheDir,
    cacheMaxBytes: opts.cacheMaxBytes,
    indexer: {
      afterBatches: opts.compactAfter,
      afterRecords: opts.compactAfterRecords,
      afterBytes: opts.compactAfterBytes,
      gcGraceMs: opts.gcGraceMs,
    },
    adminKey: process.env.QUIVER_ADMIN_KEY || undefined,
    limits,
    // MCP tools on /mcp act with the cluster as the caller's key sees it, as on one node.
    mcp: (request, scoped, access) => mcpHttpHandler(scoped, { ...access, version: packageVersion() })(request),
    console: loadConsoleAssets() ?? undefined,
    // The same embedders as single-node `quiver serve`, text and image: text or a picture in place
    // of a vector is embedded on the node that receives the request, before routing.
    input: embedders.input,
    log: opts.log
      ? (line) => process.stdout.write(`${line}\n`)
      : (line) => line.startsWith("admin key") && process.stdout.write(`${line}\n`),
    onWarning: warn,
    onEvent: (event) => process.stderr.write(`cluster: ${event}\n`),
  });
  process.stdout.write(
    `quiver cluster node ${config.nodeId} (${config.roles.join(", ")}) serving at ${node.http.url}; etcd ${config.etcdEndpoints.join(",")}, bucket ${config.s3.bucket}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  process.stderr.write("stopping: leaving the cluster, finishing requests in flight\n");
  await node.close();
  await embedders.close();
  process.stderr.write("stopped cleanly\n");
}
