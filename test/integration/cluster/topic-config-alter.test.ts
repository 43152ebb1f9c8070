import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MetadataCache, type MetadataSource } from '../../../broker/cluster/metadata-cache.js';
import { applyConfigChanges, TopicAdmin } from '../../../broker/cluster/topic-admin.js';
import { InvalidTopicConfigError } from '../../../broker/cluster/topic-config.js';
import { TopicStore, TopicVersionConflictError } from '../../../broker/cluster/topic-store.js';
import { silentLogger } from '../../../broker/common/logger.js';
import { alterConfigsHandlers } from '../../../broker/server/handlers/alter-configs.js';
import { ErrorCode } from '../../../protocol/error-codes.js';
import { ConfigOperation } from '../../../protocol/messages/index.js';
import { useDynamoDbLocal } from '../../helpers/dynamodb-local.js';

/**
 * Topic config alteration against DynamoDB Local: the conditional read-modify-write that keeps
 * concurrent alterations from losing each other's keys, and the AlterConfigs /
 * IncrementalAlterConfigs handlers' per-resource answers.
 */
const prefix = `tcfg-${randomUUID().slice(0, 8)}`;
const db = useDynamoDbLocal(prefix);

const noSource: MetadataSource = {
  readVersion: async () => 0,
  listTopics: async () => [],
  listPartitions: async () => [],
  listLiveBrokers: async () => [],
  currentController: async () => undefined,
};

function setup() {
  const store = new TopicStore(db.client, prefix);
  const metadata = new MetadataCache(noSource);
  let announcements = 0;
  const admin = new TopicAdmin(store, metadata, {
    numPartitions: 1,
    replicationFactor: 1,
    liveBrokers: () => 1,
    announce: async () => {
      announcements++;
    },
  });
  const [alter, incremental] = alterConfigsHandlers(admin, silentLogger());
  return { store, metadata, admin, alter: alter!, incremental: incremental!, announced: () => announcements };
}

async function createTopic(store: TopicStore, config: Record<string, string> = {}) {
  const name = `t-${randomUUID().slice(0, 8)}`;
  await store.create({ name, partitionCount: 1, replicationFactor: 1, config });
  return name;
}

describe('topic config alteration', () => {
  it('keeps every key when many alterations of one topic race (conditional read-modify-write)', async () => {
    const { store, admin, metadata, announced } = setup();
    const name = await createTopic(store);
    const keys = [
      ['retention.ms', '1000'],
      ['retention.bytes', '2000'],
      ['segment.ms', '3000'],
      ['segment.bytes', '4000'],
      ['min.insync.replicas', '2'],
      ['max.message.bytes', '5000'],
      ['cleanup.policy', 'compact'],
      ['message.timestamp.type', 'LogAppendTime'],
    ] as const;
    const outcomes = await Promise.all(
      keys.map(([key, value]) =>
        admin.alterConfig(name, { kind: 'incremental', changes: [{ op: 'set', name: key, value }] }, false),
      ),
    );
    expect(outcomes.map((o) => o.errorCode)).toEqual(keys.map(() => ErrorCode.NONE));
    const stored = await store.get(name);
    expect(stored!.config).toEqual(Object.fromEntries(keys));
    expect(stored!.version).toBe(1 + keys.length);
    expect(announced()).toBe(keys.length);
    // The broker's own cache holds the newest write, whichever finished last.
    expect(metadata.topic(name)).toMatchObject({ version: stored!.version, config: stored!.config });

    // A writer holding a stale version loses, whatever it writes.
    await expect(store.updateConfig(name, 1, {})).rejects.toBeInstanceOf(TopicVersionConflictError);
    expect((await store.get(name))!.config).toEqual(Object.fromEntries(keys));
  }, 30_000);

  it('replaces the whole override set, validates, honours validateOnly and skips no-op writes', async () => {
    const { store, admin, announced } = setup();
    const name = await createTopic(store, { 'segment.ms': '60000', 'retention.ms': '1000' });

    const replaced = await admin.alterConfig(
      name,
      { kind: 'replace', configs: { 'retention.ms': '2000' } },
      false,
    );
    expect(replaced.errorCode).toBe(ErrorCode.NONE);
    expect((await store.get(name))!.config).toEqual({ 'retention.ms': '2000' });

    const invalid = await admin.alterConfig(
      name,
      { kind: 'incremental', changes: [{ op: 'set', name: 'min.insync.replicas', value: '0' }] },
      false,
    );
    expect(invalid.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(invalid.errorMessage).toContain('min.insync.replicas');

    const dry = await admin.alterConfig(
      name,
      { kind: 'incremental', changes: [{ op: 'delete', name: 'retention.ms' }] },
      true,
    );
    expect(dry.errorCode).toBe(ErrorCode.NONE);
    const before = await store.get(name);
    expect(before!.config).toEqual({ 'retention.ms': '2000' });

    const writes = announced();
    await admin.alterConfig(
      name,
      { kind: 'incremental', changes: [{ op: 'set', name: 'retention.ms', value: '2000' }] },
      false,
    );
    expect((await store.get(name))!.version).toBe(before!.version);
    expect(announced()).toBe(writes);

    await store.delete(name);
    const gone = await admin.alterConfig(name, { kind: 'replace', configs: {} }, false);
    expect(gone.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  }, 30_000);

  it('answers each resource of AlterConfigs and IncrementalAlterConfigs with its own error', async () => {
    const { store, alter, incremental } = setup();
    const name = await createTopic(store);
    const topic = (configs: { name: string; configOperation: number; value: string | null }[]) => ({
      resourceType: 2,
      resourceName: name,
      configs,
    });
    const answer = (await incremental.handle(
      {
        resources: [
          { resourceType: 4, resourceName: '0', configs: [] },
          { resourceType: 8, resourceName: '0', configs: [] },
          { resourceType: 2, resourceName: 'no-such-topic', configs: [] },
          topic([{ name: 'retention.ms', configOperation: ConfigOperation.SET, value: '5000' }]),
        ],
        validateOnly: false,
      } as never,
      1,
      {} as never,
    )) as { responses: { errorCode: number; errorMessage: string | null; resourceName: string }[] };
    expect(answer.responses.map((r) => r.errorCode)).toEqual([
      ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.NONE,
    ]);
    expect(answer.responses[0]!.errorMessage).toMatch(/broker/);
    expect((await store.get(name))!.config).toEqual({ 'retention.ms': '5000' });

    const single = async (configs: Parameters<typeof topic>[0]) => {
      const response = (await incremental.handle(
        { resources: [topic(configs)], validateOnly: false } as never,
        1,
        {} as never,
      )) as { responses: { errorCode: number; errorMessage: string | null }[] };
      return response.responses[0]!;
    };
    expect(
      await single([
        { name: 'retention.ms', configOperation: ConfigOperation.SET, value: '1' },
        { name: 'retention.ms', configOperation: ConfigOperation.DELETE, value: null },
      ]),
    ).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: expect.stringMatching(/duplicate/),
    });
    expect(
      await single([{ name: 'retention.ms', configOperation: ConfigOperation.SET, value: null }]),
    ).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST });
    expect(await single([{ name: 'retention.ms', configOperation: 9, value: '1' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_REQUEST,
    });
    expect(
      await single([{ name: 'retention.ms', configOperation: ConfigOperation.APPEND, value: '1' }]),
    ).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: expect.stringMatching(/list/) });
    expect(
      await single([{ name: 'cleanup.policy', configOperation: ConfigOperation.APPEND, value: 'compact' }]),
    ).toMatchObject({ errorCode: ErrorCode.NONE });
    expect((await store.get(name))!.config).toEqual({
      'retention.ms': '5000',
      'cleanup.policy': 'compact,delete',
    });

    // AlterConfigs: null values are a request error; otherwise the set is replaced.
    const legacy = async (configs: { name: string; value: string | null }[], validateOnly = false) => {
      const response = (await alter.handle(
        { resources: [{ resourceType: 2, resourceName: name, configs }], validateOnly } as never,
        1,
        {} as never,
      )) as { responses: { errorCode: number }[] };
      return response.responses[0]!.errorCode;
    };
    expect(await legacy([{ name: 'retention.ms', value: null }])).toBe(ErrorCode.INVALID_REQUEST);
    expect(await legacy([{ name: 'segment.ms', value: 'x' }])).toBe(ErrorCode.INVALID_CONFIG);
    expect(await legacy([{ name: 'segment.ms', value: '1000' }], true)).toBe(ErrorCode.NONE);
    expect((await store.get(name))!.config).toEqual({
      'retention.ms': '5000',
      'cleanup.policy': 'compact,delete',
    });
    expect(await legacy([{ name: 'segment.ms', value: '1000' }])).toBe(ErrorCode.NONE);
    expect((await store.get(name))!.config).toEqual({ 'segment.ms': '1000' });
  }, 30_000);
});

describe('applyConfigChanges', () => {
  it('sets, deletes, appends to and subtracts from list configs (starting from the default)', () => {
    expect(
      applyConfigChanges({ 'retention.ms': '1' }, [
        { op: 'set', name: 'segment.ms', value: '2' },
        { op: 'delete', name: 'retention.ms' },
        { op: 'delete', name: 'retention.bytes' },
      ]),
    ).toEqual({ 'segment.ms': '2' });
    expect(applyConfigChanges({}, [{ op: 'append', name: 'cleanup.policy', value: 'compact' }])).toEqual({
      'cleanup.policy': 'compact,delete',
    });
    expect(
      applyConfigChanges({ 'cleanup.policy': 'compact,delete' }, [
        { op: 'subtract', name: 'cleanup.policy', value: 'compact' },
      ]),
    ).toEqual({ 'cleanup.policy': 'delete' });
    expect(
      applyConfigChanges({ 'cleanup.policy': 'delete' }, [
        { op: 'append', name: 'cleanup.policy', value: 'delete' },
      ]),
    ).toEqual({ 'cleanup.policy': 'delete' });
  });

  it('rejects unknown keys and list operations on scalar configs', () => {
    expect(() => applyConfigChanges({}, [{ op: 'delete', name: 'retention.msec' }])).toThrow(
      InvalidTopicConfigError,
    );
    expect(() => applyConfigChanges({}, [{ op: 'subtract', name: 'segment.ms', value: '1' }])).toThrow(
      /SUBTRACT needs a list-typed config/,
    );
  });
});
