import { describe, expect, it } from 'vitest';
import {
  InvalidTagError,
  parseTagsHeader,
  recordTags,
  TAGS_HEADER,
  TagFilter,
  tagsHeader,
} from '../../../../protocol/tag-filter/index.js';

describe('the spool-tags header', () => {
  it('is built from tags, de-duplicated in order', () => {
    expect(tagsHeader(['orders', 'eu', 'orders', 'k:1'])).toEqual({
      key: 'spool-tags',
      value: Buffer.from('orders,eu,k:1'),
    });
    expect(TAGS_HEADER).toBe('spool-tags');
    expect(tagsHeader([])).toEqual({ key: 'spool-tags', value: Buffer.alloc(0) });
  });

  it('refuses tags no filter could name', () => {
    for (const bad of ['', 'has space', 'a,b', 'x'.repeat(65), 'é', 'a|b']) {
      expect(() => tagsHeader(['ok', bad])).toThrow(InvalidTagError);
    }
    expect(() => tagsHeader(['x'.repeat(64)])).not.toThrow();
  });

  it('is read leniently: trimmed, empty and invalid entries ignored', () => {
    expect(parseTagsHeader(Buffer.from(' a , b,,c ,not valid, é ,'))).toEqual(['a', 'b', 'c']);
    expect(parseTagsHeader(null)).toEqual([]);
    expect(parseTagsHeader(Buffer.alloc(0))).toEqual([]);
  });

  it('gives a record the union of its spool-tags headers; other headers do not count', () => {
    const headers = [
      { key: 'spool-tags', value: Buffer.from('a,b') },
      { key: 'other', value: Buffer.from('c') },
      { key: 'spool-tags', value: Buffer.from('d') },
      { key: 'Spool-Tags', value: Buffer.from('e') },
    ];
    expect([...recordTags(headers)].sort()).toEqual(['a', 'b', 'd']);
    expect(recordTags([]).size).toBe(0);
    const filter = TagFilter.parse('d && !c && !e');
    expect(filter.matchesHeaders(headers)).toBe(true);
    expect(filter.matchesHeaders([tagsHeader(['d'])])).toBe(true);
    expect(TagFilter.parse('!a').matchesHeaders([])).toBe(true);
  });
});
