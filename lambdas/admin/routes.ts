import { z } from 'zod';
import type { Admin } from '../../client/admin/index.js';
import { KafkaProtocolError } from '../../client/errors.js';
import {
  badRequest,
  type FunctionUrlEvent,
  HttpError,
  issuesOf,
  jsonBody,
  pathSegments,
  queryParameterNames,
  type Reply,
} from './http.js';

/**
 * The admin API: each route validates its path parameters and body (zod) and maps to one or two
 * Admin calls. Validation happens before the Admin is needed, so bad requests never touch the
 * cluster.
 */

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Params = Readonly<Record<string, string>>;
/** What a validated request runs against the cluster. */
export type Operation = (admin: Admin) => Promise<Reply>;

interface Route {
  method: Method;
  /** e.g. `/topics/{name}/partitions`; `{name}` is a topic name, `{id}` a group id. */
  path: string;
  hasBody: boolean;
  prepare(params: Params, body: unknown): Operation;
}

/** Kafka's legal topic names (Topic.validate): also "." and ".." are refused. */
export const topicName = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{1,249}$/, 'a topic name is 1-249 letters, digits, ".", "_" or "-"')
  .refine((name) => name !== '.' && name !== '..', 'a topic name cannot be "." or ".."');

const groupId = z.string().min(1, 'a group id cannot be empty');

const PARAMETERS: Readonly<Record<string, z.ZodType<string>>> = { name: topicName, id: groupId };

const partitionCount = z
  .int()
  .min(1)
  .max(2 ** 31 - 1);
const configKey = z.string().min(1, 'a config name cannot be empty');

export const createTopicBody = z.strictObject({
  name: topicName,
  partitions: partitionCount.optional(),
  // Replication factors are int16 on the wire.
  replicationFactor: z.int().min(1).max(32_767).optional(),
  configs: z.record(configKey, z.string()).optional(),
  validateOnly: z.boolean().optional(),
});

export const createPartitionsBody = z.strictObject({
  /** The new total, not the number to add (as in Kafka's CreatePartitions). */
  count: partitionCount,
  validateOnly: z.boolean().optional(),
});

export const alterConfigsBody = z.strictObject({
  /** A string sets the config on the topic; null removes it, so the default applies again. */
  configs: z
    .record(configKey, z.string().nullable())
    .refine((configs) => Object.keys(configs).length > 0, 'name at least one config'),
  validateOnly: z.boolean().optional(),
});

/** Admin.resetOffsets' ResetTarget. */
export const resetTarget = z.union([
  z.enum(['earliest', 'latest']),
  z.strictObject({ timestamp: z.int().min(0) }),
  z.strictObject({ offset: z.int().min(0) }),
]);

export const resetOffsetsBody = z.strictObject({
  topic: topicName,
  to: resetTarget,
  dryRun: z.boolean().optional(),
});

const ok = (body: unknown): Reply => ({ status: 200, body });
const VALID: Reply = ok({ valid: true });
const NO_CONTENT: Reply = { status: 204 };

async function describeTopic(admin: Admin, name: string) {
  const [description] = await admin.describeTopics([name]);
  return description;
}

function simple(method: Method, path: string, run: (admin: Admin, params: Params) => Promise<Reply>): Route {
  return { method, path, hasBody: false, prepare: (params) => (admin) => run(admin, params) };
}

function withBody<S extends z.ZodType>(
  method: Method,
  path: string,
  schema: S,
  run: (admin: Admin, params: Params, body: z.infer<S>) => Promise<Reply>,
): Route {
  return {
    method,
    path,
    hasBody: true,
    prepare(params, raw) {
      if (raw === undefined) throw badRequest('this request needs a JSON body');
      const parsed = schema.safeParse(raw);
      if (!parsed.success) throw badRequest('the body is not valid for this request', issuesOf(parsed.error));
      return (admin) => run(admin, params, parsed.data);
    },
  };
}

export const ROUTES: readonly Route[] = [
  simple('GET', '/cluster', async (admin) => ok(await admin.describeCluster())),

  simple('GET', '/topics', async (admin) => ok({ topics: await admin.listTopics() })),
  withBody('POST', '/topics', createTopicBody, async (admin, _params, body) => {
    const { name, validateOnly, ...rest } = body;
    await admin.createTopics([{ topic: name, ...rest }], { validateOnly: validateOnly ?? false });
    if (validateOnly) return VALID;
    return {
      status: 201,
      headers: { location: `/topics/${encodeURIComponent(name)}` },
      body: await describeTopic(admin, name),
    };
  }),
  simple('GET', '/topics/{name}', async (admin, { name }) => ok(await describeTopic(admin, name!))),
  simple('DELETE', '/topics/{name}', async (admin, { name }) => {
    await admin.deleteTopics([name!]);
    return NO_CONTENT;
  }),
  withBody('POST', '/topics/{name}/partitions', createPartitionsBody, async (admin, { name }, body) => {
    await admin.createPartitions(name!, body.count, { validateOnly: body.validateOnly ?? false });
    return body.validateOnly ? VALID : ok(await describeTopic(admin, name!));
  }),
  withBody('PATCH', '/topics/{name}/configs', alterConfigsBody, async (admin, { name }, body) => {
    await admin.alterConfigs(name!, body.configs, { validateOnly: body.validateOnly ?? false });
    return body.validateOnly ? VALID : ok(await describeTopic(admin, name!));
  }),

  simple('GET', '/groups', async (admin) => ok({ groups: await admin.listGroups() })),
  simple('GET', '/groups/{id}', async (admin, { id }) => {
    const [[group], offsets] = await Promise.all([admin.describeGroups([id!]), admin.fetchOffsets(id!)]);
    // DescribeGroups answers "Dead" rather than an error for a group that does not exist (as Kafka).
    if (!group || group.state === 'Dead') {
      throw new HttpError(404, 'GROUP_ID_NOT_FOUND', `group "${id}" does not exist`);
    }
    return ok({ ...group, offsets });
  }),
  simple('DELETE', '/groups/{id}', async (admin, { id }) => {
    await admin.deleteGroups([id!]);
    return NO_CONTENT;
  }),
  withBody('POST', '/groups/{id}/offsets', resetOffsetsBody, async (admin, { id }, body) => {
    const dryRun = body.dryRun ?? false;
    try {
      return ok({ dryRun, plan: await admin.resetOffsets(id!, body.topic, body.to, { dryRun }) });
    } catch (error) {
      // The coordinator refuses an admin commit with UNKNOWN_MEMBER_ID while the group has members.
      if (error instanceof KafkaProtocolError && error.errorName === 'UNKNOWN_MEMBER_ID') {
        throw new HttpError(
          409,
          'UNKNOWN_MEMBER_ID',
          `group "${id}" has active members; stop its consumers before resetting its offsets (${error.message})`,
        );
      }
      throw error;
    }
  }),
];

function matches(pattern: string, segments: readonly string[]): Params | undefined {
  const parts = pattern.split('/').slice(1);
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    const segment = segments[i]!;
    if (part.startsWith('{')) {
      // `/topics//partitions` is no route, not a request about the topic "".
      if (segment === '') return undefined;
      params[part.slice(1, -1)] = segment;
    } else if (part !== segment) return undefined;
  }
  return params;
}

/**
 * Validates a request and returns what it will run against the cluster. Throws HttpError for an
 * unknown path (404), a method the path does not serve (405, with `allow`), query parameters
 * (none are defined) or bad path parameters and bodies (400).
 */
export function resolveRequest(event: FunctionUrlEvent): { route: string; operation: Operation } {
  const method = event.requestContext.http.method.toUpperCase();
  const segments = pathSegments(event.rawPath);
  const candidates = ROUTES.flatMap((route) => {
    const params = matches(route.path, segments);
    return params ? [{ route, params }] : [];
  });
  if (candidates.length === 0) throw new HttpError(404, 'NotFound', `no route for ${event.rawPath}`);
  const found = candidates.find((c) => c.route.method === method);
  if (!found) {
    const allow = candidates.map((c) => c.route.method).join(', ');
    throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed on ${event.rawPath}`, {
      headers: { allow },
    });
  }
  const query = queryParameterNames(event.rawQueryString);
  if (query.length > 0) throw badRequest(`unknown query parameters: ${query.join(', ')}`);
  for (const [name, value] of Object.entries(found.params)) {
    const parsed = PARAMETERS[name]!.safeParse(value);
    if (!parsed.success) {
      const issues = issuesOf(parsed.error).map((i) => ({ ...i, path: [name, ...i.path] }));
      throw badRequest(`invalid path parameter ${name}: "${value}"`, issues);
    }
  }
  const body = found.route.hasBody ? jsonBody(event) : undefined;
  return { route: found.route.path, operation: found.route.prepare(found.params, body) };
}
