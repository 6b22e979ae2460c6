/**
 * The flags of `quiver serve --cluster`, checked all at once before anything starts, each problem
 * named by its flag: etcd endpoints, the S3 location (`http(s)://host:port/bucket[/prefix]` for an
 * S3-compatible service, `s3://bucket[/prefix]` for AWS), the node id and its roles, and the AWS
 * credentials from the environment.
 */
import { type Problem, QuiverError } from "../../core/errors/errors.js";
import { ROLES, type Role, checkNodeId } from "../members.js";

export interface ClusterFlags {
  etcd?: string;
  s3?: string;
  nodeId?: string;
  roles?: string;
}

export interface ClusterConfig {
  etcdEndpoints: string[];
  s3: {
    endpoint?: string;
    bucket: string;
    prefix: string;
    region?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string };
  };
  nodeId: string;
  roles: Role[];
}

export function parseClusterFlags(flags: ClusterFlags, env: Record<string, string | undefined>): ClusterConfig {
  const problems: Problem[] = [];
  const etcdEndpoints = (flags.etcd ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean);
  if (etcdEndpoints.length === 0)
    problems.push({
      path: "--etcd",
      message: "give the etcd client URLs, e.g. --etcd http://10.0.0.1:2379,http://10.0.0.2:2379",
    });
  for (const e of etcdEndpoints)
    if (!/^https?:\/\/[^/\s]+\/?$/.test(e))
      problems.push({ path: "--etcd", message: `${JSON.stringify(e)} is not an http(s)://host:port URL` });
  const s3 = parseS3(flags.s3, problems);
  if (flags.nodeId === undefined)
    problems.push({ path: "--node-id", message: "give this node a stable id, e.g. --node-id node-1" });
  else {
    try {
      checkNodeId(flags.nodeId);
    } catch (error) {
      problems.push({ path: "--node-id", message: (error as Error).message });
    }
  }
  const roles = (flags.roles ?? ROLES.join(",")).split(",").map((r) => r.trim()) as Role[];
  for (const r of roles)
    if (!ROLES.includes(r))
      problems.push({ path: "--roles", message: `unknown role ${JSON.stringify(r)} (expected ${ROLES.join(", ")})` });
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (s3?.endpoint !== undefined && (!accessKeyId || !secretAccessKey))
    problems.push({
      path: "AWS_ACCESS_KEY_ID",
      message: "an S3-compatible endpoint needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment",
    });
  if (problems.length > 0 || !s3) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  return {
    etcdEndpoints,
    s3: {
      ...s3,
      region: env.AWS_REGION || undefined,
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    },
    nodeId: flags.nodeId as string,
    roles,
  };
}

function parseS3(
  flag: string | undefined,
  problems: Problem[],
): { endpoint?: string; bucket: string; prefix: string } | null {
  const usage = "give the object store as http(s)://host:port/bucket[/prefix] or s3://bucket[/prefix]";
  if (flag === undefined) {
    problems.push({ path: "--s3", message: usage });
    return null;
  }
  let url: URL;
  try {
    url = new URL(flag);
  } catch {
    problems.push({ path: "--s3", message: `${JSON.stringify(flag)} is not a URL: ${usage}` });
    return null;
  }
  const parts = url.pathname.split("/").filter(Boolean);
  if (url.protocol === "s3:") return { bucket: url.hostname, prefix: prefixOf(parts) };
  if ((url.protocol === "http:" || url.protocol === "https:") && parts.length > 0)
    return { endpoint: url.origin, bucket: parts[0], prefix: prefixOf(parts.slice(1)) };
  problems.push({ path: "--s3", message: `${JSON.stringify(flag)} names no bucket: ${usage}` });
  return null;
}

const prefixOf = (parts: string[]): string => (parts.length ? `${parts.join("/")}/` : "");
