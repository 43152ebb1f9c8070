import { ProtocolError } from '../errors.js';
import type { RecordHeader } from '../record-batch/types.js';

/**
 * Record tags. A record's tags travel in the record header `spool-tags`: UTF-8, comma-separated
 * tag names, each trimmed of surrounding whitespace. A tag is 1-64 characters of
 * `[A-Za-z0-9._:-]` and is case-sensitive. A record without the header has no tags; anything in
 * the header that is not a valid tag is ignored (no filter expression can name it anyway), and if a
 * record carries the header more than once, its tags are the union.
 */

export const TAGS_HEADER = 'spool-tags';
export const MAX_TAG_LENGTH = 64;

const TAG_CHARACTER = /[A-Za-z0-9._:-]/;
const TAG = /^[A-Za-z0-9._:-]{1,64}$/;

/** A tag character: also what the expression tokenizer uses to find where a tag ends. */
export function isTagCharacter(char: string): boolean {
  return TAG_CHARACTER.test(char);
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/** A tag given to `tagsHeader` is not 1-64 characters of `[A-Za-z0-9._:-]`. */
export class InvalidTagError extends ProtocolError {
  override name = 'InvalidTagError';
  constructor(readonly tag: string) {
    super(`invalid tag ${JSON.stringify(tag)}: a tag is 1-${MAX_TAG_LENGTH} characters of [A-Za-z0-9._:-]`);
  }
}

/**
 * The `spool-tags` header carrying `tags` (duplicates dropped, order kept), for a producer to add
 * to a record. Throws InvalidTagError rather than silently dropping a tag the filter could never
 * match. An empty list gives a header with an empty value, which means "no tags".
 */
export function tagsHeader(tags: readonly string[]): RecordHeader {
  for (const tag of tags) if (!isValidTag(tag)) throw new InvalidTagError(tag);
  return { key: TAGS_HEADER, value: Buffer.from([...new Set(tags)].join(','), 'utf8') };
}

/** The valid tags in one `spool-tags` header value. */
export function parseTagsHeader(value: Buffer | null): string[] {
  if (value === null || value.length === 0) return [];
  const tags: string[] = [];
  for (const part of value.toString('utf8').split(',')) {
    const tag = part.trim();
    if (isValidTag(tag)) tags.push(tag);
  }
  return tags;
}

/** A record's tags: the union over its `spool-tags` headers (usually one, or none). */
export function recordTags(headers: readonly RecordHeader[]): Set<string> {
  const tags = new Set<string>();
  for (const header of headers) {
    if (header.key !== TAGS_HEADER) continue;
    for (const tag of parseTagsHeader(header.value)) tags.add(tag);
  }
  return tags;
}
