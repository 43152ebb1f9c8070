import type { z } from 'zod';
import { UnsupportedByBrokerError } from '../../client/cluster/index.js';
import {
  ConnectionError,
  type ErrorName,
  KafkaProtocolError,
  SpoolError,
  TimeoutError,
} from '../../client/errors.js';

/**
 * The HTTP side of the admin Lambda: the Lambda Function URL payload (format 2.0), reading paths
 * and bodies from it, JSON answers, and how errors become statuses. Nothing here knows the routes.
 */

/** The parts of a Function URL (payload format 2.0) event this Lambda reads. */
export interface FunctionUrlEvent {
  version?: string;
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: {
    requestId?: string;
    http: { method: string; path?: string; sourceIp?: string };
    /** Set by the IAM auth type: who signed the request, logged for the audit trail. */
    authorizer?: { iam?: { userArn?: string; callerId?: string; accountId?: string } };
  };
}

export interface FunctionUrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** What a route answers, before it is serialized. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Issue {
  path: (string | number)[];
  message: string;
}

/** An error that already knows its HTTP answer (bad requests, unknown routes, ...). */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    /** The `error` field of the answer. */
    readonly error: string,
    message: string,
    readonly details: { issues?: Issue[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }
}

export function badRequest(message: string, issues?: Issue[]): HttpError {
  return new HttpError(400, 'BadRequest', message, issues ? { issues } : {});
}

/** zod issues as answered to the caller: the path (config keys contain dots, so not joined) and the message. */
export function issuesOf(error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    message: i.message,
  }));
}

/** The URL-decoded path segments; `/topics/a%2Eb/` is `['topics', 'a.b']`. */
export function pathSegments(rawPath: string): string[] {
  // One trailing slash is tolerated (`/topics/`); empty segments elsewhere match no route.
  const trimmed = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
  const segments = trimmed.split('/').slice(1);
  return segments.map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw badRequest(`the path segment "${segment}" is not valid percent-encoding`);
    }
  });
}

/** The names of the query parameters, decoded (`a=1&b` is `['a', 'b']`). */
export function queryParameterNames(rawQueryString: string | undefined): string[] {
  if (!rawQueryString) return [];
  return [...new URLSearchParams(rawQueryString).keys()];
}

/** The JSON body, or undefined when there is none. Function URLs base64-encode non-text bodies. */
export function jsonBody(event: FunctionUrlEvent): unknown {
  if (event.body === undefined || event.body === '') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body is not valid JSON: ${(error as Error).message}`);
  }
}

export function toResult(reply: Reply): FunctionUrlResult {
  // Admin answers describe state that changes under them: never cache one.
  const headers: Record<string, string> = { 'cache-control': 'no-store', ...reply.headers };
  if (reply.body === undefined) return { statusCode: reply.status, headers, body: '' };
  headers['content-type'] = 'application/json';
  return { statusCode: reply.status, headers, body: JSON.stringify(reply.body) };
}

/**
 * Wire errors with a status of their own; the rest go by kind (see errorReply). UNKNOWN_TOPIC_OR_PARTITION
 * is retriable on the wire (a topic may be being created), but by the time the Admin gives up on
 * it, it means "no such topic", so it must be looked up before retriability.
 */
const STATUS_BY_ERROR_NAME: ReadonlyMap<string, number> = new Map<ErrorName, number>([
  ['TOPIC_ALREADY_EXISTS', 409],
  ['UNKNOWN_TOPIC_OR_PARTITION', 404],
  ['UNKNOWN_TOPIC_ID', 404],
  ['GROUP_ID_NOT_FOUND', 404],
  ['NON_EMPTY_GROUP', 409],
  ['POLICY_VIOLATION', 400],
]);

export interface ErrorAnswer {
  reply: Reply;
  /** A server-side failure (5xx): logged with its stack, counted as AdminErrors. */
  serverSide: boolean;
}

/** The HTTP answer for anything a request threw. Bodies carry `{ error, message }`, never a stack. */
export function errorReply(error: unknown): ErrorAnswer {
  if (error instanceof HttpError) {
    const body = {
      error: error.error,
      message: error.message,
      ...(error.details.issues ? { issues: error.details.issues } : {}),
    };
    return {
      reply: {
        status: error.status,
        body,
        ...(error.details.headers ? { headers: error.details.headers } : {}),
      },
      serverSide: error.status >= 500,
    };
  }
  if (error instanceof KafkaProtocolError || error instanceof UnsupportedByBrokerError) {
    return answer(statusOfWireError(error.errorName, error.retriable), error.errorName, error.message);
  }
  if (error instanceof SpoolError) {
    // Lost connections, timeouts, a cluster with no live broker: the brokers may be back soon.
    return answer(error.retriable ? 503 : 500, error.name, error.message);
  }
  // A bug here or in the SDK: its message may describe internals, so it goes to the log only.
  return answer(500, 'InternalError', 'unexpected error; the details are in the admin Lambda log');
}

function statusOfWireError(name: string, retriable: boolean): number {
  const mapped = STATUS_BY_ERROR_NAME.get(name);
  if (mapped !== undefined) return mapped;
  if (retriable) return 503;
  // INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG, INVALID_TOPIC_EXCEPTION, ...
  if (name.startsWith('INVALID_')) return 400;
  return 500;
}

function answer(status: number, error: string, message: string): ErrorAnswer {
  return {
    reply: {
      status,
      body: { error, message },
      // Retriable failures: tell clients (and the AWS SDKs' retry logic) that trying again makes sense.
      ...(status === 503 ? { headers: { 'retry-after': '1' } } : {}),
    },
    serverSide: status >= 500,
  };
}

/**
 * Errors after which the container's Admin should be dropped and rebuilt by the next invocation:
 * the brokers were unreachable or did not answer, so its sockets and metadata may be stale.
 */
export function isConnectionLevel(error: unknown): boolean {
  return error instanceof ConnectionError || error instanceof TimeoutError;
}
