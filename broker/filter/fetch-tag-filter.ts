import { TagFilter, TagFilterSyntaxError } from '../../protocol/tag-filter/index.js';
import type { Logger } from '../common/logger.js';
import { filterRecordBatches } from './batch-filter.js';

/** What a Fetch topic's `spoolTagFilter` asks for. */
export type TopicTagFilter =
  | { kind: 'none' }
  | { kind: 'filter'; filter: TagFilter }
  /** Unparseable: each of the topic's partitions answers INVALID_REQUEST with this message. */
  | { kind: 'invalid'; message: string };

const NO_FILTER: TopicTagFilter = { kind: 'none' };

/**
 * Parses a topic's filter once per request. Null and `*` mean no filtering at all. Only syntax
 * errors become 'invalid'; anything else thrown here would be a bug, and propagates.
 */
export function topicTagFilter(text: string | null): TopicTagFilter {
  if (text === null) return NO_FILTER;
  try {
    const filter = TagFilter.parse(text);
    return filter.matchesEverything ? NO_FILTER : { kind: 'filter', filter };
  } catch (error) {
    if (error instanceof TagFilterSyntaxError) return { kind: 'invalid', message: error.message };
    throw error;
  }
}

export interface FilteredRecordsObserver {
  /** Records dropped by fetch-time tag filters, and the response bytes that saved. */
  onFilteredRecords(records: number, bytes: number): void;
}

/**
 * Applies tag filters to the records a consumer fetch read, reporting what it dropped to the
 * metrics and logging the first batch that could not be decoded (then staying quiet: a consumer
 * re-fetching past one bad batch would otherwise log it on every poll).
 */
export class FetchTagFiltering {
  private loggedUndecodable = false;

  constructor(
    private readonly logger: Logger,
    private readonly observer?: FilteredRecordsObserver,
  ) {}

  apply(records: Buffer, filter: TagFilter, where: { topic: string; partition: number }): Buffer {
    const result = filterRecordBatches(records, filter);
    if (result.removedRecords > 0)
      this.observer?.onFilteredRecords(result.removedRecords, result.removedBytes);
    if (result.undecodableBatches > 0 && !this.loggedUndecodable) {
      this.loggedUndecodable = true;
      this.logger.warn(
        { err: result.firstDecodeError, ...where, batches: result.undecodableBatches },
        'tag filter: record batch did not decode; returned unfiltered (logged once)',
      );
    }
    return result.records;
  }
}
