import type { RecordHeader } from '../record-batch/types.js';
import {
  evaluateTagExpression,
  formatTagExpression,
  parseTagExpression,
  type TagExpression,
} from './expression.js';
import { recordTags } from './tags.js';

/**
 * A parsed tag filter, shared by the broker (which drops non-matching records from fetch
 * responses) and the SDK consumer (which validates the expression up front and re-checks what it
 * receives, in case the broker ignored the filter). Immutable; parse once, match many records.
 */
export class TagFilter {
  private constructor(
    readonly expression: TagExpression,
    /** The text as given. */
    readonly source: string,
  ) {}

  /** Throws TagFilterSyntaxError (with the offending position) if `text` does not parse. */
  static parse(text: string): TagFilter {
    return new TagFilter(parseTagExpression(text), text);
  }

  /** The filter `*`: every record passes, so there is nothing to evaluate or rewrite. */
  get matchesEverything(): boolean {
    return this.expression.kind === 'all';
  }

  matches(tags: ReadonlySet<string>): boolean {
    return evaluateTagExpression(this.expression, tags);
  }

  /** Matches a record by its headers (its tags are in `spool-tags`). */
  matchesHeaders(headers: readonly RecordHeader[]): boolean {
    return this.matches(recordTags(headers));
  }

  /** The canonical form (see formatTagExpression). */
  toString(): string {
    return formatTagExpression(this.expression);
  }
}
