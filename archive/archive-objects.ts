import { createReadStream } from 'node:fs';
import {
  BucketAlreadyExists,
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsCommand,
  type ListObjectsCommandOutput,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ArchiveObjectError } from './errors.js';

export interface S3Settings {
  region: string;
  /** An S3-compatible endpoint (s3rver, LocalStack); unset for AWS. */
  endpoint?: string;
}

/**
 * An S3 client for the archive. Against an emulator it uses path-style addressing and, on
 * loopback without credentials in the environment, dummy ones. The SDK's standard retry mode
 * retries throttling, 5xx and timeouts with exponential backoff and jitter.
 */
export function createS3Client(settings: S3Settings): S3Client {
  const loopback =
    settings.endpoint !== undefined && /^https?:\/\/(127\.|localhost|\[::1\])/.test(settings.endpoint);
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    ...(loopback && !process.env.AWS_ACCESS_KEY_ID
      ? // s3rver accepts only its own fixed key pair; LocalStack accepts any.
        { credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }
      : {}),
    maxAttempts: 5,
    requestHandler: { requestTimeout: 30_000, connectionTimeout: 2_000 },
  });
}

/** Parts of a multipart upload; S3's minimum is 5 MiB. Smaller files go up in one PUT. */
export const MULTIPART_PART_BYTES = 8 * 1024 * 1024;

export interface ArchiveObject {
  key: string;
  size: number;
  lastModified: number;
}

/** The archive's objects in one bucket: whole-file uploads, ranged reads, listing and deletion. */
export class ArchiveObjects {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** Creates the bucket if it is missing (local development; in AWS the CDK stack owns it). */
  async ensureBucket(): Promise<void> {
    try {
      await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (!(error instanceof BucketAlreadyOwnedByYou || error instanceof BucketAlreadyExists)) throw error;
    }
  }

  /** Uploads a file or buffer; files above one part go up as a multipart upload. */
  async put(key: string, body: Buffer | { path: string }): Promise<void> {
    const upload = new Upload({
      client: this.s3,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: Buffer.isBuffer(body) ? body : createReadStream(body.path),
      },
      partSize: MULTIPART_PART_BYTES,
      queueSize: 2,
      // A failed multipart upload is aborted, so its parts do not linger (and cost) in the bucket.
      leavePartsOnError: false,
    });
    await upload.done();
  }

  /** Bytes [start, start + length) of an object (fewer at its end). */
  async getRange(key: string, start: number, length: number): Promise<Buffer> {
    if (length <= 0) return Buffer.alloc(0);
    return this.read(key, `bytes=${start}-${start + length - 1}`);
  }

  async get(key: string): Promise<Buffer> {
    return this.read(key);
  }

  private async read(key: string, range?: string): Promise<Buffer> {
    try {
      const response = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: range } : {}) }),
      );
      if (!response.Body) throw new ArchiveObjectError(key, 'empty response body');
      return Buffer.from(await response.Body.transformToByteArray());
    } catch (error) {
      if (error instanceof ArchiveObjectError) throw error;
      if ((error as { name?: string }).name === 'NoSuchKey')
        throw new ArchiveObjectError(key, 'no such object', { cause: error });
      throw error;
    }
  }

  async list(prefix: string): Promise<ArchiveObject[]> {
    const objects: ArchiveObject[] = [];
    for await (const page of this.pages({ Prefix: prefix }, (p) => p.Contents?.at(-1)?.Key))
      for (const o of page.Contents ?? [])
        if (o.Key)
          objects.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified?.getTime() ?? 0 });
    return objects;
  }

  /** Deletes objects (missing ones are fine), 1000 per request. */
  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const { Errors } = await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      if (Errors && Errors.length > 0)
        throw new ArchiveObjectError(
          Errors[0]!.Key ?? '?',
          `delete failed: ${Errors[0]!.Message ?? Errors[0]!.Code}`,
        );
    }
  }

  /**
   * The "folders" directly below `prefix`, each ending in "/" (e.g. "" gives every topic id's
   * prefix, "<topicId>/" its partitions' prefixes). Lets a sweep walk the bucket one partition at
   * a time instead of holding every key in memory.
   */
  async listPrefixes(prefix: string): Promise<string[]> {
    const prefixes: string[] = [];
    // Past the last prefix of a page: every key below it starts with it, and keys are ASCII
    // (layout.ts), so they all sort before the prefix followed by U+FFFF.
    // A page may also end on a key directly below `prefix`; resume after whichever is later.
    const after = (page: ListObjectsCommandOutput) => {
      const lastPrefix = page.CommonPrefixes?.at(-1)?.Prefix;
      const candidates = [
        lastPrefix === undefined ? undefined : `${lastPrefix}\uffff`,
        page.Contents?.at(-1)?.Key,
      ];
      return candidates
        .filter((c) => c !== undefined)
        .sort()
        .at(-1);
    };
    for await (const page of this.pages({ Prefix: prefix, Delimiter: '/' }, after))
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
    return prefixes;
  }

  /**
   * Every page of a listing. This is ListObjects (v1), each page resuming after where the previous
   * one ended (Marker): the same listing on S3, while s3rver fails every truncated ListObjectsV2
   * page (its continuation tokens need a cipher, DES, that OpenSSL 3 disables).
   */
  private async *pages(
    params: { Prefix: string; Delimiter?: string },
    resumeAfter: (page: ListObjectsCommandOutput) => string | undefined,
  ): AsyncGenerator<ListObjectsCommandOutput> {
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.s3.send(
        new ListObjectsCommand({
          Bucket: this.bucket,
          ...params,
          ...(startAfter === undefined ? {} : { Marker: startAfter }),
        }),
      );
      yield page;
      if (!page.IsTruncated) return;
      const next = resumeAfter(page);
      if (next === undefined || next === startAfter)
        throw new ArchiveObjectError(params.Prefix, 'listing is truncated but did not advance');
      startAfter = next;
    }
  }
}
