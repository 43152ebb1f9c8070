import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_DEFINITIONS, TABLE_SUFFIXES, tableName } from '../../broker/cluster/tables.js';
import { removeOutdirs, SYNTH_TIMEOUT_MS, synthTemplate } from './synth.js';

afterAll(removeOutdirs);

describe('shared table definitions', () => {
  it('keep the suffixes and names the stores use', () => {
    expect(TABLE_SUFFIXES).toEqual({
      topics: 'topics',
      partitions: 'partitions',
      groups: 'groups',
      cluster: 'cluster',
      archive: 'archive',
      schedules: 'schedules',
    });
    expect(tableName('spool', 'archive')).toBe('spool-archive');
    for (const definition of Object.values(TABLE_DEFINITIONS)) {
      expect(definition.partitionKey).toEqual({ name: 'pk', type: 'S' });
      expect(definition.sortKey).toEqual({ name: 'sk', type: 'S' });
    }
  });
});

describe('CDK tables', () => {
  let template: Template;
  beforeAll(() => {
    template = synthTemplate({ prefix: 'acme' });
  }, SYNTH_TIMEOUT_MS);

  it('creates exactly one table per shared definition, named <prefix>-<suffix>', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', Object.keys(TABLE_DEFINITIONS).length);
    for (const definition of Object.values(TABLE_DEFINITIONS)) {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: `acme-${definition.suffix}`,
        KeySchema: [
          { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: definition.sortKey.name, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: definition.partitionKey.name, AttributeType: 'S' },
          { AttributeName: definition.sortKey.name, AttributeType: 'S' },
        ]),
      });
    }
  });

  it('are on demand, with point-in-time recovery and deletion protection, retained; TTL only on schedules', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    for (const table of Object.values(tables)) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      expect(table.Properties.TimeToLiveSpecification).toEqual(
        table.Properties.TableName === 'acme-schedules' ? { AttributeName: 'ttl', Enabled: true } : undefined,
      );
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    }
  });
});
