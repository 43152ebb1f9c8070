import { describe, expect, it } from 'vitest';
import { useArchiveEmulators } from './archive-fixtures.js';

/**
 * Listings longer than one page (S3 returns at most 1000 entries per request) against s3rver:
 * every key and every prefix comes back exactly once, so the orphan sweep sees whole partitions.
 */

const emulators = useArchiveEmulators();

describe('ArchiveObjects listings', () => {
  it('lists every key and every prefix of a listing longer than one page', async () => {
    const env = await emulators.fresh();
    const partitions = Array.from({ length: 1005 }, (_, i) => String(i).padStart(4, '0'));
    const keys = partitions.map((p) => `t/${p}/a.log`);
    for (let i = 0; i < keys.length; i += 50)
      await Promise.all(keys.slice(i, i + 50).map((key) => env.objects.put(key, Buffer.from('x'))));
    await env.objects.put('t/stray', Buffer.from('y'));
    await env.objects.put('u/0/other.log', Buffer.from('z'));

    expect((await env.objects.list('t/')).map((o) => o.key)).toEqual([...keys, 't/stray']);
    expect(await env.objects.listPrefixes('t/')).toEqual(partitions.map((p) => `t/${p}/`));
  }, 120_000);
});
