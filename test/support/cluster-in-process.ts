/**
 * A cluster of ClusterNodes in one process, for the router's tests: the process-local coordinator
 * (CommitLog, Lease, Catalog), a memory object store, and peer calls made as direct calls to the
 * addressed node (through JSON, as over HTTP, so nothing passes that the wire would not carry). A node
 * can be cut off (its peer calls fail UNAVAILABLE, as a dead process's would) or stopped.
 */
import { DEFAULT_LIMITS } from "../../src/api/limits.js";
import { defaultTextPlugins } from "../../src/analyzers/plugins.js";
import { LocalCoordinator } from "../../src/cluster/local-coordinator.js";
import type { Role } from "../../src/cluster/members.js";
import { ClusterNode } from "../../src/cluster/node.js";
import { DirectoryObjectStore } from "../../src/cluster/object-store.js";
import { type PeerClient, toJson } from "../../src/cluster/peers.js";
import { ClusterDatabase, type RequestScope } from "../../src/cluster/router.js";
import { QuiverError } from "../../src/core/errors/errors.js";
import type { Problem } from "../../src/core/errors/errors.js";
import { checkName, validateIds, validateRecords, validateSchema } from "../../src/database/validate.js";
import type { InputHook } from "../../src/database/collection.js";
import { checkQueryTextLength } from "../../src/database/query-request.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";

export class InProcessCluster {
  readonly coordinator = new LocalCoordinator();
  readonly objects = new DirectoryObjectStore(new MemoryDirectory());
  readonly nodes = new Map<string, ClusterNode>();
  readonly cutOff = new Set<string>();
  /** The scope the next router calls run with (what HTTP headers would carry). */
  scope: RequestScope = {};

  private readonly peers: PeerClient = {
    call: async <T>(address: string, op: string, body: unknown): Promise<T> => {
      const id = address.replace("mem://", "");
      const node = this.nodes.get(id);
      if (!node || this.cutOff.has(id)) throw new QuiverError("UNAVAILABLE", `node ${id} did not answer ${op}`);
      const answer = await node.handlePeer(op, JSON.parse(toJson(body)));
      return JSON.parse(toJson(answer ?? null)) as T;
    },
  };

  constructor(
    readonly options: {
      leaseTtlMs: number;
      replicas: number;
      defaultShards?: number;
      /** Every node's embedders (text in place of vectors), as `quiver serve --cluster` binds them. */
      input?: InputHook;
    },
  ) {}

  async start(id: string, roles: Role[] = ["writer", "query"]): Promise<ClusterNode> {
    const node = new ClusterNode({
      catalog: this.coordinator,
      commitLog: this.coordinator,
      leases: this.coordinator,
      objects: this.objects,
      self: { id, address: `mem://${id}`, roles },
      leaseTtlMs: this.options.leaseTtlMs,
      replicas: this.options.replicas,
      minSeqWaitMs: 2000,
      databaseOptions: { text: defaultTextPlugins },
    });
    this.nodes.set(id, node);
    await node.start();
    return node;
  }

  /** The DatabaseApi as served by node `id`. */
  db(id: string): ClusterDatabase {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return new ClusterDatabase({
      node,
      peers: this.peers,
      catalog: this.coordinator,
      leases: this.coordinator,
      defaultShards: this.options.defaultShards,
      requestScope: () => this.scope,
      writeTimeoutMs: this.options.leaseTtlMs * 4,
      validateSchema: (name, schema) => {
        const problems: Problem[] = [];
        checkName(name, "name", problems);
        if (problems.length) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
        return validateSchema(schema, DEFAULT_LIMITS, defaultTextPlugins);
      },
      validateRecords: (schema, records) => void validateRecords(records, schema, DEFAULT_LIMITS),
      validateIds: (ids) => void validateIds(ids, DEFAULT_LIMITS),
      checkQueryText: (req) => checkQueryTextLength(req, DEFAULT_LIMITS),
      input: this.options.input,
    });
  }

  /** Waits until every node has run a tick that saw every live member and collection. */
  async settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, (this.options.leaseTtlMs / 5) * 3));
  }

  async stop(id: string): Promise<void> {
    await this.nodes.get(id)?.close();
    this.nodes.delete(id);
  }

  async close(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((id) => this.stop(id)));
  }
}
