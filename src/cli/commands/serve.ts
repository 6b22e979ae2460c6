/**
 * `quiver serve` (behind `npm start`): opens the database directory, loads or creates the API
 * keys, and serves the HTTP API on 127.0.0.1 unless told otherwise. SIGINT / SIGTERM stop
 * accepting, finish requests in flight, save usage, and close the database (WAL checkpointed).
 */
import { Command } from "commander";
import { defaultThreadCount, open, type Limits } from "../../index.js";
import { NodeDirectory } from "../../node/fs-directory.js";
import { serveApp } from "../../node/http-server.js";
import { loadConsoleAssets } from "../../node/console-assets.js";
import { corsPolicy, startQuiverServer, type QuiverServer } from "../../server/index.js";
import { mcpHttpHandler } from "../../mcp/http.js";
import { embeddersFromEnv, imageEmbeddersFromEnv } from "../../embed/node/config.js";
import { intOption, servedDatabase } from "../output.js";
import { packageVersion } from "../package-version.js";
import { QuiverError } from "../../core/errors/errors.js";
import { type ClusterServeFlags, serveCluster } from "./serve-cluster.js";

export const DEFAULT_PORT = 8390;

/** The cluster flags are serve-cluster.ts's (`--cluster` hands them over as they are). */
interface ServeOptions extends ClusterServeFlags {
  data?: string;
  threads: number;
  port: number;
  host: string;
  log: boolean;
  rotateAdminKey?: boolean;
  maxBodyBytes?: number;
  maxBatch?: number;
  maxDimension?: number;
  maxPayloadBytes?: number;
  maxFilterDepth?: number;
  maxFilterSize?: number;
  maxGroupScan?: number;
  maxTopK?: number;
  maxQueryText?: number;
  maxConnections?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  corsOrigin: string[];
  cluster?: boolean;
}

const CLUSTER_ONLY = [
  "etcd",
  "s3",
  "nodeId",
  "roles",
  "advertise",
  "etcdPrefix",
  "shards",
  "replicas",
  "leaseMs",
  "cacheDir",
  "cacheMaxBytes",
  "compactAfter",
  "compactAfterRecords",
  "compactAfterBytes",
  "gcGraceMs",
  "compactThreads",
] as const;

export function serveCommand(): Command {
  return new Command("serve")
    .description("serve the database over HTTP (API keys, usage metering, /metrics, /openapi.json, /docs)")
    .option("--data <dir>", "deprecated: use --db")
    .option("--port <n>", "port (0 picks a free one)", intOption(0, 65535), DEFAULT_PORT)
    .option("--host <h>", "address to bind; anything but loopback exposes the database to the network", "127.0.0.1")
    .option(
      "--threads <n>",
      "worker threads for the graph searches of queries (0: on the thread that serves HTTP; default: one per core)",
      intOption(0, 256),
      defaultThreadCount(),
    )
    .option("--no-log", "no JSON request log on stdout")
    .option("--rotate-admin-key", "replace the stored admin key with a new one, printed once")
    .option("--max-body-bytes <n>", "largest request body (default 32 MiB)", intOption(1))
    .option("--max-batch <n>", "most records per upsert, ids per get/delete (default 10,000)", intOption(1))
    .option("--max-dimension <n>", "largest vector dimension (default 65,536)", intOption(1))
    .option("--max-payload-bytes <n>", "largest payload as JSON (default 1 MiB)", intOption(1))
    .option("--max-filter-depth <n>", "deepest filter (default 16)", intOption(1))
    .option(
      "--max-filter-size <n>",
      "most conditions, operators and listed values in a filter (default 1,024)",
      intOption(1),
    )
    .option("--max-group-scan <n>", "most ranked hits a groupBy query examines (default 100,000)", intOption(1))
    .option("--max-top-k <n>", "largest limit + offset of a query (default 10,000)", intOption(1))
    .option("--max-query-text <n>", "longest query text in characters (default 16,384)", intOption(1))
    .option("--max-connections <n>", "most open connections (default 1,000)", intOption(1))
    .option("--headers-timeout-ms <n>", "time to receive a request's headers (default 10,000)", intOption(1))
    .option(
      "--request-timeout-ms <n>",
      "time from a request's arrival to its answer: slow bodies are cut (408), slow work stops with 504 TIMEOUT (default 60,000)",
      intOption(1),
    )
    .option(
      "--cors-origin <origin>",
      "let pages from this origin (https://app.example.com, or *) call the server from a browser; repeatable; keys are still required",
      (origin: string, all: string[]) => [...all, origin],
      [] as string[],
    )
    .option("--cluster", "run as a node of a cluster on etcd and an S3-compatible store (docs/cluster.md)")
    .option("--etcd <endpoints>", "cluster: etcd client URLs, comma-separated")
    .option("--s3 <url>", "cluster: the object store, http(s)://host:port/bucket[/prefix] or s3://bucket[/prefix]")
    .option("--node-id <id>", "cluster: this node's stable id")
    .option("--roles <roles>", "cluster: writer,query,indexer (default all)")
    .option("--advertise <url>", "cluster: the URL other nodes reach this one at (default http://host:port)")
    .option("--etcd-prefix <prefix>", "cluster: key prefix of this cluster in etcd (default quiver/)")
    .option("--shards <n>", "cluster: shards of a collection created over HTTP (default 1)", intOption(1, 256))
    .option("--replicas <n>", "cluster: query nodes following each shard (default 2)", intOption(1))
    .option("--lease-ms <n>", "cluster: lease period of nodes and shard writers (default 5,000)", intOption(1000))
    .option("--cache-dir <dir>", "cluster: disk cache of sealed segments (default <tmp>/quiver-cache/<node id>)")
    .option("--cache-max-bytes <n>", "cluster: bound of the disk cache (default 4 GiB)", intOption(1))
    .option(
      "--compact-after <n>",
      "cluster, indexer role: compact a shard once its log holds more than n batches (default 1,000)",
      intOption(1),
    )
    .option(
      "--compact-after-records <n>",
      "cluster, indexer role: ... or more than n records upserted and ids deleted (default 250,000)",
      intOption(1),
    )
    .option(
      "--compact-after-bytes <n>",
      "cluster, indexer role: ... or more than n bytes of batches (default 512 MiB)",
      intOption(1),
    )
    .option(
      "--gc-grace-ms <n>",
      "cluster, indexer role: keep unreferenced objects this long before deleting them (default 600,000)",
      intOption(1000),
    )
    .option(
      "--compact-threads <n>",
      "cluster, indexer role: threads that build a compaction's graph (default one per core; 1: none)",
      intOption(1, 256),
    )
    .addHelpText(
      "after",
      "\nThe admin key comes from QUIVER_ADMIN_KEY; without it one is generated on first start and printed once.\nSee docs/server.md.",
    )
    .action(async (opts: ServeOptions, cmd: Command) => {
      const clusterFlags = CLUSTER_ONLY.filter((flag) => opts[flag] !== undefined);
      if (!opts.cluster && clusterFlags.length > 0)
        throw new QuiverError(
          "INVALID_ARGUMENT",
          `--${clusterFlags[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is a cluster flag: add --cluster`,
        );
      const limits: Partial<Limits> = {};
      if (opts.maxBatch !== undefined) limits.maxBatch = opts.maxBatch;
      if (opts.maxDimension !== undefined) limits.maxDimension = opts.maxDimension;
      if (opts.maxPayloadBytes !== undefined) limits.maxPayloadBytes = opts.maxPayloadBytes;
      if (opts.maxFilterDepth !== undefined) limits.maxFilterDepth = opts.maxFilterDepth;
      if (opts.maxFilterSize !== undefined) limits.maxFilterSize = opts.maxFilterSize;
      if (opts.maxGroupScan !== undefined) limits.maxGroupScan = opts.maxGroupScan;
      if (opts.maxTopK !== undefined) limits.maxTopK = opts.maxTopK;
      if (opts.maxQueryText !== undefined) limits.maxQueryTextLength = opts.maxQueryText;
      if (opts.cluster) return serveCluster(opts, limits);
      const path = servedDatabase(cmd, opts.data);
      corsPolicy(opts.corsOrigin); // a malformed origin is refused before the database is opened
      const warn = (w: string) => process.stderr.write(`warning: ${w}\n`);
      const dir = new NodeDirectory(path);
      // Image embedders too: queries of image collections by words or by a picture (docs/images.md).
      const db = await open(dir, {
        limits,
        onWarning: warn,
        embedders: embeddersFromEnv(),
        // One query's picture at a time: one worker thread (one copy of the offline network, about 250 MB).
        imageEmbedders: imageEmbeddersFromEnv(process.env, 1),
        threads: opts.threads,
      });
      const consoleAssets = loadConsoleAssets();
      if (!consoleAssets) warn("the console is not built (npm run build:console); /console is not served");
      let server: QuiverServer;
      try {
        server = await startQuiverServer({
          db,
          dir,
          limits,
          serverLimits: {
            ...(opts.maxBodyBytes !== undefined && { maxBodyBytes: opts.maxBodyBytes }),
            // One budget from arrival to answer: receiving (the adapter) and working (the app).
            ...(opts.requestTimeoutMs !== undefined && { requestTimeoutMs: opts.requestTimeoutMs }),
          },
          corsOrigins: opts.corsOrigin,
          adminKey: process.env.QUIVER_ADMIN_KEY || undefined,
          rotateAdminKey: opts.rotateAdminKey,
          onWarning: warn,
          console: consoleAssets ?? undefined,
          recovery: () => db.recovery,
          // MCP tools on /mcp act with the database as the caller's key sees it.
          mcp: (request, scoped, access) => mcpHttpHandler(scoped, { ...access, version: packageVersion() })(request),
          log: opts.log ? (entry) => process.stdout.write(`${JSON.stringify(entry)}\n`) : undefined,
          extraGauges: () => {
            const m = process.memoryUsage();
            return {
              quiver_process_resident_bytes: { help: "Resident set size.", samples: [[{}, m.rss]] },
              quiver_process_heap_used_bytes: { help: "V8 heap in use.", samples: [[{}, m.heapUsed]] },
            };
          },
        });
      } catch (e) {
        await db.close();
        throw e;
      }
      const http = await serveApp(server.app, {
        host: opts.host,
        port: opts.port,
        limits: {
          ...(opts.maxConnections !== undefined && { maxConnections: opts.maxConnections }),
          ...(opts.headersTimeoutMs !== undefined && { headersTimeoutMs: opts.headersTimeoutMs }),
          ...(opts.requestTimeoutMs !== undefined && { requestTimeoutMs: opts.requestTimeoutMs }),
        },
      });
      if (!["127.0.0.1", "::1", "localhost"].includes(opts.host)) {
        warn(
          `listening on ${opts.host}: reachable from the network, over plain HTTP; put TLS in front (a reverse proxy) before sending keys across it`,
        );
      }
      const collections = await db.listCollections();
      const lines = [
        `quiver serving ${path} at ${http.url}  (${collections.length} collection${collections.length === 1 ? "" : "s"}: ${collections.map((c) => `${c.name} ${c.count}`).join(", ") || "none"})`,
        ...(consoleAssets ? [`  console: ${http.url}/console   (sign in with the admin key below)`] : []),
        `  docs:    ${http.url}/docs   OpenAPI: ${http.url}/openapi.json   health: ${http.url}/healthz`,
      ];
      if (server.generatedAdminKey) {
        lines.push(
          `  admin key (shown once; only its hash is stored in ${path}/server-keys.json):`,
          `    ${server.generatedAdminKey}`,
        );
      } else if (process.env.QUIVER_ADMIN_KEY) lines.push("  admin key: the one in QUIVER_ADMIN_KEY");
      else lines.push("  admin key: the one printed on first start (quiver serve --rotate-admin-key prints a new one)");
      const key = server.generatedAdminKey ?? "$QUIVER_ADMIN_KEY";
      lines.push(
        `  try:     curl -H "Authorization: Bearer ${key}" ${http.url}/v1/collections`,
        `  client:  import { connect } from "quiverdb/client"; const db = connect("${http.url}", { apiKey: "..." });`,
        "  Ctrl-C stops the server (requests in flight finish, the database is closed cleanly).",
        "",
      );
      process.stdout.write(`${lines.join("\n")}\n`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) process.exit(130);
          stopping = true;
          process.stderr.write(
            `\n${signal}: stopping (finishing requests in flight, saving usage, closing the database)\n`,
          );
          resolve();
        };
        process.once("SIGINT", () => stop("SIGINT"));
        process.once("SIGTERM", () => stop("SIGTERM"));
      });
      await http.close();
      await server.flush();
      await db.close();
      process.stderr.write("stopped cleanly\n");
    });
}
