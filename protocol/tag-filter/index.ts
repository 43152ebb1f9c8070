export {
  evaluateTagExpression,
  formatTagExpression,
  MAX_EXPRESSION_LENGTH,
  MAX_NESTING,
  parseTagExpression,
  type TagExpression,
  TagFilterSyntaxError,
} from './expression.js';
export { TagFilter } from './tag-filter.js';
export {
  InvalidTagError,
  isValidTag,
  MAX_TAG_LENGTH,
  parseTagsHeader,
  recordTags,
  TAGS_HEADER,
  tagsHeader,
} from './tags.js';
