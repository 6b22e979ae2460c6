/**
 * ObjectStore on any S3-compatible service (AWS S3, R2, MinIO, Ceph RGW; s3rver in tests) through
 * @aws-sdk/client-s3. Credentials come from the SDK's usual chain (AWS_ACCESS_KEY_ID, profiles, ...)
 * unless given. Only plain PUT/GET/DELETE/LIST are used: keys are written once, so no conditional
 * PUT is needed (many S3-compatible stores do not honour one).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { QuiverError, isQuiverError } from "../../core/errors/errors.js";
import { type ObjectInfo, type ObjectStore, checkObjectKey } from "../object-store.js";

export interface S3ObjectStoreOptions {
  /** The service's URL, e.g. "http://127.0.0.1:9000"; the SDK's AWS default when absent. */
  endpoint?: string;
  bucket: string;
  /** Prefix of every key of this cluster in the bucket, e.g. "quiver/prod/". */
  prefix?: string;
  /** Default: the SDK's chain (AWS_REGION, profile) for AWS, "us-east-1" with an endpoint. */
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Attempts per request, with the SDK's backoff between them (default 3). */
  maxAttempts?: number;
  /** Time limit of one attempt, connection included, in ms (default 5000). */
  requestTimeoutMs?: number;
}

export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3ObjectStoreOptions) {
    const timeout = options.requestTimeoutMs ?? 5000;
    this.client = new S3Client({
      endpoint: options.endpoint,
      // With an endpoint (not AWS) the region is only a signing label; for AWS the SDK's chain finds it.
      region: options.region ?? (options.endpoint === undefined ? undefined : "us-east-1"),
      forcePathStyle: options.endpoint !== undefined,
      credentials: options.credentials,
      maxAttempts: options.maxAttempts ?? 3,
      // Every object is checked against the sha256 its pointer or manifest names: the SDK's own CRC32 of
      // each PUT body and GET response would only cost CPU (a cluster write's largest share after JSON).
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      requestHandler: { connectionTimeout: timeout, requestTimeout: timeout },
    });
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? "";
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    checkObjectKey(key);
    await s3(`PUT ${key}`, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: bytes })),
    );
  }

  async get(key: string): Promise<Uint8Array | null> {
    checkObjectKey(key);
    return s3(`GET ${key}`, async () => {
      try {
        const found = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
        return found.Body ? await found.Body.transformToByteArray() : new Uint8Array(0);
      } catch (error) {
        if (
          error instanceof S3ServiceException &&
          (error.name === "NoSuchKey" || error.$metadata.httpStatusCode === 404)
        )
          return null;
        throw error;
      }
    });
  }

  async delete(key: string): Promise<void> {
    checkObjectKey(key);
    await s3(`DELETE ${key}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key })),
    );
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await s3(`LIST ${prefix}*`, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }),
        ),
      );
      for (const item of page.Contents ?? [])
        if (item.Key) found.push({ key: item.Key.slice(this.prefix.length), size: item.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  close(): void {
    this.client.destroy();
  }
}

/**
 * Runs one S3 request. A refusal by the service for the caller's request (403, missing bucket) is
 * IO with the service's reason; no answer at all, or a 5xx, is UNAVAILABLE (retry later).
 */
async function s3<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (isQuiverError(error)) throw error;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
    if (status !== undefined && status < 500)
      throw new QuiverError("IO", `${what}: the object store refused it (${status} ${reason})`, { cause: error });
    throw new QuiverError("UNAVAILABLE", `${what}: the object store did not answer (${reason})`, { cause: error });
  }
}
