/**
 * The flags of `quiver serve --cluster` (src/cluster/serve/options.ts): every missing or bad flag is
 * named in one INVALID_ARGUMENT before anything starts, the S3 location forms are read as documented,
 * and cluster flags without --cluster are refused by the CLI rather than ignored.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseClusterFlags } from "../../src/cluster/serve/options.js";
import { isQuiverError } from "../../src/core/errors/errors.js";

const ENV = { AWS_ACCESS_KEY_ID: "id", AWS_SECRET_ACCESS_KEY: "secret" };

it("every missing or bad flag is named at once", () => {
  assert.throws(
    () => parseClusterFlags({ roles: "writer,reader", nodeId: "bad id" }, {}),
    (e) =>
      isQuiverError(e, "INVALID_ARGUMENT") &&
      ["--etcd", "--s3", "--node-id", "--roles"].every((flag) => e.problems.some((p) => p.path === flag)),
  );
  assert.throws(
    () => parseClusterFlags({ etcd: "127.0.0.1:2379", s3: "http://127.0.0.1:9000", nodeId: "n1" }, ENV),
    (e) =>
      isQuiverError(e) &&
      e.problems.some((p) => p.path === "--etcd" && /not an http/.test(p.message)) &&
      e.problems.some((p) => p.path === "--s3" && /names no bucket/.test(p.message)),
  );
  assert.throws(
    () => parseClusterFlags({ etcd: "http://127.0.0.1:2379", s3: "http://127.0.0.1:9000/b", nodeId: "n1" }, {}),
    (e) => isQuiverError(e) && e.problems.some((p) => p.path === "AWS_ACCESS_KEY_ID"),
  );
});

it("reads S3-compatible and AWS locations, etcd lists, roles and credentials", () => {
  const config = parseClusterFlags(
    {
      etcd: "http://10.0.0.1:2379, http://10.0.0.2:2379",
      s3: "https://minio.local:9000/bucket/quiver/prod",
      nodeId: "node-1",
      roles: "query",
    },
    { ...ENV, AWS_REGION: "eu-west-1" },
  );
  assert.deepEqual(config, {
    etcdEndpoints: ["http://10.0.0.1:2379", "http://10.0.0.2:2379"],
    s3: {
      endpoint: "https://minio.local:9000",
      bucket: "bucket",
      prefix: "quiver/prod/",
      region: "eu-west-1",
      credentials: { accessKeyId: "id", secretAccessKey: "secret" },
    },
    nodeId: "node-1",
    roles: ["query"],
  });
  const aws = parseClusterFlags({ etcd: "http://e:2379", s3: "s3://my-bucket", nodeId: "n" }, {});
  assert.deepEqual(aws.s3, { bucket: "my-bucket", prefix: "", region: undefined, credentials: undefined });
  assert.deepEqual(aws.roles, ["writer", "query", "indexer"]);
});

it("the CLI refuses cluster flags without --cluster, and names a bad flag with --cluster", () => {
  const cli = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
  const without = spawnSync(process.execPath, [cli, "serve", "--etcd", "http://127.0.0.1:1"], { encoding: "utf8" });
  assert.notEqual(without.status, 0);
  assert.match(without.stderr, /--etcd is a cluster flag: add --cluster/);
  const bad = spawnSync(process.execPath, [cli, "serve", "--cluster", "--node-id", "n1"], {
    encoding: "utf8",
    env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" },
  });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--etcd/);
  assert.match(bad.stderr, /--s3/);
});

it("the compaction thresholds by batches, records and bytes, and --compact-threads: positive integers, cluster flags", () => {
  const cli = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
  const serve = (...args: string[]) => spawnSync(process.execPath, [cli, "serve", ...args], { encoding: "utf8" });
  for (const [flag, value] of [
    ["--compact-after", "0"],
    ["--compact-after-records", "0"],
    ["--compact-after-records", "many"],
    ["--compact-after-bytes", "1.5"],
    ["--compact-after-bytes", "-1"],
    ["--compact-threads", "0"],
    ["--compact-threads", "two"],
  ]) {
    const bad = serve("--cluster", `${flag}=${value}`);
    assert.notEqual(bad.status, 0, `${flag}=${value}`);
    assert.match(bad.stderr, new RegExp(`option '${flag} <n>' argument '${value.replace(".", "\\.")}' is invalid`));
  }
  for (const flag of ["--compact-after-records", "--compact-after-bytes", "--compact-threads"]) {
    const without = serve(flag, "10");
    assert.notEqual(without.status, 0);
    assert.match(without.stderr, new RegExp(`${flag} is a cluster flag: add --cluster`));
  }
});
