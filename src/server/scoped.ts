/**
 * A view of the database as one API key sees it: collections outside the key's reach do not
 * exist (listing omits them, opening one is NOT_FOUND), and writes need a write scope. Handed to
 * surfaces that call the database API on a key's behalf, such as the MCP tools on /mcp.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { CollectionApi, DatabaseApi } from "../api/types.js";
import { allows, reaches, type Principal } from "./keys.js";

function hidden(name: string): QuiverError {
  return new QuiverError("NOT_FOUND", `collection "${name}" does not exist`);
}

function forbidden(p: Principal, what: string): QuiverError {
  return new QuiverError("FORBIDDEN", `this key may only ${p.scope}; ${what} needs write`);
}

function scopedCollection(c: CollectionApi, p: Principal): CollectionApi {
  const write = (what: string) => {
    if (!allows(p, "write")) throw forbidden(p, what);
  };
  return {
    name: c.name,
    get schema() {
      return c.schema;
    },
    upsert: async (records) => {
      write("upsert");
      return c.upsert(records);
    },
    delete: async (ids) => {
      write("delete");
      return c.delete(ids);
    },
    deleteByFilter: async (filter, call) => {
      write("delete");
      return c.deleteByFilter(filter, call);
    },
    get: (ids, opts) => c.get(ids, opts),
    count: (filter, call) => c.count(filter, call),
    scroll: (req, call) => c.scroll(req, call),
    query: (req, call) => c.query(req, call),
  };
}

export function scopedDatabase(db: DatabaseApi, p: Principal): DatabaseApi {
  return {
    async createCollection(name, schema, opts) {
      if (!reaches(p, name))
        throw new QuiverError("FORBIDDEN", `this key cannot create "${name}": it is outside the key's collections`);
      if (!allows(p, "write")) throw forbidden(p, "creating a collection");
      return scopedCollection(await db.createCollection(name, schema, opts), p);
    },
    async collection(name) {
      if (!reaches(p, name)) throw hidden(name);
      return scopedCollection(await db.collection(name), p);
    },
    async listCollections() {
      return (await db.listCollections()).filter((c) => reaches(p, c.name));
    },
    async dropCollection(name) {
      if (!reaches(p, name)) throw hidden(name);
      if (!allows(p, "write")) throw forbidden(p, "dropping a collection");
      return db.dropCollection(name);
    },
    async stats() {
      if (p.scope !== "admin") throw new QuiverError("FORBIDDEN", "database stats need an admin key");
      return db.stats();
    },
    async checkpoint() {
      if (p.scope !== "admin") throw new QuiverError("FORBIDDEN", "a checkpoint needs an admin key");
      return db.checkpoint();
    },
    async close() {
      throw new QuiverError("FORBIDDEN", "the server's database cannot be closed through a key");
    },
  };
}
