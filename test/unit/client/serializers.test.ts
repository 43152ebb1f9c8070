import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SerializationError } from '../../../client/errors.js';
import {
  buffer,
  type Deserializer,
  deserializeNullable,
  json,
  type Serializer,
  serializeNullable,
  string,
} from '../../../client/serializers.js';

const ctx = { topic: 'orders' };

describe('built-in serdes', () => {
  it('round-trips strings as UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const bytes = string.serialize(text, ctx);
        expect(bytes.equals(Buffer.from(text, 'utf8'))).toBe(true);
        expect(string.deserialize(bytes, ctx)).toBe(text);
      }),
    );
  });

  it('passes buffers through without copying', () => {
    const data = Buffer.from([1, 2, 3]);
    expect(buffer.serialize(data, ctx)).toBe(data);
    expect(buffer.deserialize(data, ctx)).toBe(data);
  });

  it('round-trips JSON values with their type', () => {
    interface Order {
      id: string;
      amount: number;
      tags: string[];
    }
    const orders = json<Order>();
    const order: Order = { id: 'o-1', amount: 12.5, tags: ['a', 'ü'] };
    const bytes = orders.serialize(order, ctx);
    expect(bytes.toString('utf8')).toBe(JSON.stringify(order));
    const back: Order = orders.deserialize(bytes, ctx);
    expect(back).toEqual(order);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const serde = json<unknown>();
        // JSON has no -0; everything else must come back as it went in.
        expect(serde.deserialize(serde.serialize(value, ctx), ctx)).toEqual(
          JSON.parse(JSON.stringify(value)),
        );
      }),
    );
  });

  it('raises SerializationError for invalid JSON and unserializable values', () => {
    const serde = json<unknown>();
    expect(() => serde.deserialize(Buffer.from('{nope'), ctx)).toThrow(SerializationError);
    expect(() => serde.serialize(undefined, ctx)).toThrow(/no JSON representation/);
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    const error = (() => {
      try {
        serde.serialize(cyclic, ctx);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as SerializationError).retriable).toBe(false);
    expect((error as SerializationError).cause).toBeInstanceOf(TypeError);
  });
});

describe('null handling', () => {
  it('keeps null as null without calling the serde', () => {
    const never: Serializer<string> & Deserializer<string> = {
      serialize: () => {
        throw new Error('must not be called');
      },
      deserialize: () => {
        throw new Error('must not be called');
      },
    };
    expect(serializeNullable(never, null, ctx)).toBeNull();
    expect(serializeNullable(never, undefined, ctx)).toBeNull();
    expect(deserializeNullable(never, null, ctx)).toBeNull();
    expect(serializeNullable(json<object>(), null, ctx)).toBeNull();
  });

  it('serializes and deserializes non-null values through the serde', () => {
    expect(serializeNullable(string, 'x', ctx)?.toString()).toBe('x');
    expect(deserializeNullable(json<{ a: number }>(), Buffer.from('{"a":1}'), ctx)).toEqual({ a: 1 });
  });

  it('wraps errors thrown by user serdes, passing the topic', () => {
    const upper: Serializer<string> = {
      serialize(value, context) {
        if (value === '') throw new RangeError(`empty value for ${context.topic}`);
        return Buffer.from(value.toUpperCase());
      },
    };
    expect(serializeNullable(upper, 'a', ctx)?.toString()).toBe('A');
    expect(() => serializeNullable(upper, '', ctx)).toThrow(SerializationError);
    try {
      serializeNullable(upper, '', ctx);
    } catch (error) {
      expect((error as SerializationError).message).toContain('orders');
      expect((error as SerializationError).cause).toBeInstanceOf(RangeError);
    }
  });
});
