import { describe, expect, it } from 'vitest';
import { ConfigError, Consumer, InvalidTagFilterError } from '../../../client/index.js';

describe('Consumer tagFilter option', () => {
  it('rejects an invalid expression at construction, with where and why', () => {
    let caught: unknown;
    try {
      new Consumer({ bootstrap: ['127.0.0.1:1'], tagFilter: 'orders | refunds' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidTagFilterError);
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({
      name: 'InvalidTagFilterError',
      option: 'tagFilter',
      expression: 'orders | refunds',
      position: 7,
      reason: 'single "|"; the operator is "||"',
      retriable: false,
      message: 'invalid tagFilter "orders | refunds" at position 7: single "|"; the operator is "||"',
    });
    expect(() => new Consumer({ bootstrap: ['127.0.0.1:1'], tagFilter: '' })).toThrow(InvalidTagFilterError);
  });

  it('accepts a valid expression, and * (no filter)', async () => {
    for (const tagFilter of ['orders || refunds', '!test && (eu || us)', '*']) {
      const consumer = new Consumer({ bootstrap: ['127.0.0.1:1'], tagFilter });
      await consumer.close();
    }
  });
});
