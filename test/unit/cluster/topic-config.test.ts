import { describe, expect, it } from 'vitest';
import { InvalidTopicConfigError, resolveTopicConfig } from '../../../broker/cluster/topic-config.js';

describe('resolveTopicConfig', () => {
  it('fills defaults and parses integers', () => {
    const config = resolveTopicConfig({ 'retention.ms': '1000', 'min.insync.replicas': '2' });
    expect(config['retention.ms']).toBe(1000);
    expect(config['min.insync.replicas']).toBe(2);
    expect(config['cleanup.policy']).toBe('delete');
  });

  it.each([[''], [' '], ['1.5'], ['1e3'], ['ten'], ['0x10']])('rejects %j as an integer', (value) => {
    expect(() => resolveTopicConfig({ 'retention.ms': value })).toThrow(InvalidTopicConfigError);
  });

  it('rejects unknown keys and values out of range', () => {
    expect(() => resolveTopicConfig({ 'retention.msec': '1' })).toThrow(/unknown config retention.msec/);
    expect(() => resolveTopicConfig({ 'min.insync.replicas': '0' })).toThrow(InvalidTopicConfigError);
    expect(() => resolveTopicConfig({ 'cleanup.policy': 'sometimes' })).toThrow(InvalidTopicConfigError);
  });
});
