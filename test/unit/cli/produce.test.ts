import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { produceLines } from '../../../cli/commands/produce.js';
import { parseHeaders, readLines, splitLine } from '../../../cli/line-records.js';

async function lines(chunks: (string | Buffer)[]): Promise<string[]> {
  const out: string[] = [];
  for await (const line of readLines(Readable.from(chunks))) out.push(line.toString('utf8'));
  return out;
}

async function* fromArray(items: string[]): AsyncGenerator<Buffer> {
  for (const item of items) yield Buffer.from(item);
}

describe('readLines', () => {
  it('splits on \\n and \\r\\n across chunk boundaries', async () => {
    expect(await lines(['a\nb', 'c\r', '\nd\n'])).toEqual(['a', 'bc', 'd']);
    expect(await lines(['one', 'two', 'three'])).toEqual(['onetwothree']);
    expect(await lines(['x\n\n', '\ny'])).toEqual(['x', '', '', 'y']);
    expect(await lines([''])).toEqual([]);
    expect(await lines(['last\r\n'])).toEqual(['last']);
  });

  it('keeps bytes as they are (a multi-byte character split across chunks)', async () => {
    const euro = Buffer.from('k:€\n');
    expect(await lines([euro.subarray(0, 3), euro.subarray(3)])).toEqual(['k:€']);
  });

  it('yields copies, not views of a reused chunk', async () => {
    const chunk = Buffer.from('ab\ncd\n');
    const out: Buffer[] = [];
    for await (const line of readLines(Readable.from([chunk]))) out.push(line);
    chunk.fill(0);
    expect(out.map((b) => b.toString())).toEqual(['ab', 'cd']);
  });
});

describe('splitLine and parseHeaders', () => {
  it('splits at the first separator', () => {
    const sep = Buffer.from('::');
    expect(splitLine(Buffer.from('k::v::w'), sep)).toEqual({
      key: Buffer.from('k'),
      value: Buffer.from('v::w'),
    });
    expect(splitLine(Buffer.from('::v'), sep)).toEqual({ key: Buffer.from(''), value: Buffer.from('v') });
    expect(splitLine(Buffer.from('no sep'), sep)).toBeUndefined();
    expect(splitLine(Buffer.from('all value'), undefined)).toEqual({
      key: null,
      value: Buffer.from('all value'),
    });
  });

  it('parses key=value headers in order, splitting at the first =', () => {
    expect(parseHeaders(['a=1', 'b=x=y', 'a=', 'c'.concat('=2')])).toEqual([
      { key: 'a', value: Buffer.from('1') },
      { key: 'b', value: Buffer.from('x=y') },
      { key: 'a', value: Buffer.from('') },
      { key: 'c', value: Buffer.from('2') },
    ]);
    expect(() => parseHeaders(['=v'])).toThrow("invalid header '=v'");
    expect(() => parseHeaders(['novalue'])).toThrow('expected key=value');
  });
});

describe('produceLines', () => {
  /** Puts keyed records on partition = key length % 3, offsets counting per partition. */
  function fakeProducer(failOn?: string) {
    const offsets = [0, 0, 0];
    const sent: { key: string | null; value: string; partition: number | undefined; headers: number }[] = [];
    let outstanding = 0;
    let maxOutstanding = 0;
    return {
      sent,
      maxOutstanding: () => maxOutstanding,
      producer: {
        send(
          topic: string,
          record: { key: Buffer | null; value: Buffer; headers: unknown[]; partition?: number },
        ) {
          sent.push({
            key: record.key?.toString() ?? null,
            value: record.value.toString(),
            partition: record.partition,
            headers: record.headers.length,
          });
          outstanding++;
          maxOutstanding = Math.max(maxOutstanding, outstanding);
          const partition = record.partition ?? (record.key?.length ?? 0) % 3;
          return new Promise<{ topic: string; partition: number; offset: number }>((resolve, reject) =>
            setImmediate(() => {
              outstanding--;
              if (record.value.toString() === failOn) reject(new Error('broker said no'));
              else resolve({ topic, partition, offset: offsets[partition]!++ });
            }),
          );
        },
      },
    };
  }

  it('sends key/value records with headers and summarizes per partition', async () => {
    const fake = fakeProducer();
    const summary = await produceLines(fake.producer, fromArray(['a:1', 'bb:2', 'ccc:3', 'a:4', 'plain']), {
      topic: 't',
      separator: Buffer.from(':'),
      headers: [{ key: 'h', value: Buffer.from('v') }],
      maxInFlight: 2,
    });
    expect(fake.sent).toEqual([
      { key: 'a', value: '1', partition: undefined, headers: 1 },
      { key: 'bb', value: '2', partition: undefined, headers: 1 },
      { key: 'ccc', value: '3', partition: undefined, headers: 1 },
      { key: 'a', value: '4', partition: undefined, headers: 1 },
      { key: null, value: 'plain', partition: undefined, headers: 1 },
    ]);
    expect(fake.maxOutstanding()).toBe(2);
    expect(summary).toMatchObject({
      topic: 't',
      records: 5,
      bytes: 1 + 1 + 2 + 1 + 3 + 1 + 1 + 1 + 5,
      partitions: [
        { partition: 0, records: 2, firstOffset: 0, lastOffset: 1 },
        { partition: 1, records: 2, firstOffset: 0, lastOffset: 1 },
        { partition: 2, records: 1, firstOffset: 0, lastOffset: 0 },
      ],
    });
  });

  it('reports null offsets when the broker returns none (acks=0)', async () => {
    const producer = {
      send: async () => ({ topic: 't', partition: 4, offset: -1 }),
    };
    const summary = await produceLines(producer, fromArray(['x', 'y']), { topic: 't', partition: 4 });
    expect(summary.partitions).toEqual([{ partition: 4, records: 2, firstOffset: null, lastOffset: null }]);
  });

  it('fails at the first line without the separator under strictKeys, after the earlier sends settled', async () => {
    const fake = fakeProducer();
    await expect(
      produceLines(fake.producer, fromArray(['a:1', 'b:2', 'oops', 'c:3']), {
        topic: 't',
        separator: Buffer.from(':'),
        strictKeys: true,
      }),
    ).rejects.toThrow(
      "line 3 has no key separator ':' (--strict-keys) (2 records produced before the failure)",
    );
    expect(fake.sent).toHaveLength(2);
  });

  it('stops reading after a failed send and says how many records made it', async () => {
    const fake = fakeProducer('bad');
    const input = ['ok1', 'bad', ...Array.from({ length: 1000 }, (_, i) => `later${i}`)];
    await expect(
      produceLines(fake.producer, fromArray(input), { topic: 't', maxInFlight: 1 }),
    ).rejects.toThrow(/^broker said no \(1 record produced before the failure\)$/);
    expect(fake.sent.length).toBeLessThan(5);
  });
});
