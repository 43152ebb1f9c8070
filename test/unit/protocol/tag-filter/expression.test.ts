import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  evaluateTagExpression,
  formatTagExpression,
  MAX_EXPRESSION_LENGTH,
  MAX_NESTING,
  parseTagExpression,
  type TagExpression,
  TagFilter,
  TagFilterSyntaxError,
} from '../../../../protocol/tag-filter/index.js';

// A small alphabet, so random tag sets often contain the tags an expression names.
const TAGS = ['a', 'b', 'c', 'orders.eu', 'k:1', 'x-y_z'];
const tagArb = fc.constantFrom(...TAGS);
const tagSetArb = fc.subarray(TAGS).map((tags) => new Set(tags));

const expressionArb: fc.Arbitrary<TagExpression> = fc.letrec<{ expr: TagExpression }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 4, depthSize: 'small' },
    tagArb.map((name): TagExpression => ({ kind: 'tag', name })),
    fc.constant<TagExpression>({ kind: 'all' }),
    tie('expr').map((operand): TagExpression => ({ kind: 'not', operand })),
    fc
      .array(tie('expr'), { minLength: 2, maxLength: 3 })
      .map((operands): TagExpression => ({ kind: 'and', operands })),
    fc
      .array(tie('expr'), { minLength: 2, maxLength: 3 })
      .map((operands): TagExpression => ({ kind: 'or', operands })),
  ),
})).expr;

/** The reference: the tree evaluated directly, independent of parsing. */
function referenceEvaluate(expression: TagExpression, tags: ReadonlySet<string>): boolean {
  switch (expression.kind) {
    case 'all':
      return true;
    case 'tag':
      return tags.has(expression.name);
    case 'not':
      return !referenceEvaluate(expression.operand, tags);
    case 'and':
      return expression.operands.reduce((acc, o) => acc && referenceEvaluate(o, tags), true);
    case 'or':
      return expression.operands.reduce((acc, o) => acc || referenceEvaluate(o, tags), false);
  }
}

const PRECEDENCE = { or: 1, and: 2, not: 3, tag: 3, all: 3 } as const;

/**
 * Renders a tree as a filter and as the equivalent JavaScript, token for token: parentheses where
 * precedence needs them plus redundant ones at random, random whitespace. JavaScript's `!`, `&&`
 * and `||` have exactly the precedence the filter language documents, so JavaScript's own parser
 * is an independent reference for ours.
 */
function render(expression: TagExpression, extra: () => boolean, space: () => string) {
  const go = (e: TagExpression, parentPrecedence: number): { filter: string; js: string } => {
    let out: { filter: string; js: string };
    switch (e.kind) {
      case 'all':
        out = { filter: '*', js: 'true' };
        break;
      case 'tag':
        out = { filter: e.name, js: `t.has(${JSON.stringify(e.name)})` };
        break;
      case 'not': {
        const inner = go(e.operand, PRECEDENCE.not);
        out = { filter: `!${space()}${inner.filter}`, js: `!${inner.js}` };
        break;
      }
      case 'and':
      case 'or': {
        const op = e.kind === 'and' ? '&&' : '||';
        const parts = e.operands.map((o) => go(o, PRECEDENCE[e.kind]));
        out = {
          filter: parts.map((p) => p.filter).join(`${space()}${op}${space()}`),
          js: parts.map((p) => p.js).join(` ${op} `),
        };
        break;
      }
    }
    if (PRECEDENCE[e.kind] < parentPrecedence || extra()) {
      out = { filter: `(${space()}${out.filter}${space()})`, js: `(${out.js})` };
    }
    return out;
  };
  return go(expression, 0);
}

function jsEvaluate(js: string, tags: ReadonlySet<string>): boolean {
  return new Function('t', `return ${js};`)(tags) as boolean;
}

function syntaxError(text: string): TagFilterSyntaxError {
  try {
    parseTagExpression(text);
  } catch (error) {
    if (error instanceof TagFilterSyntaxError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(text)} parsed`);
}

describe('tag filter expressions', () => {
  it('evaluates with precedence ! > && > ||', () => {
    const matches = (text: string, ...tags: string[]) => TagFilter.parse(text).matches(new Set(tags));
    expect(matches('a || b', 'a')).toBe(true);
    expect(matches('a || b', 'b', 'c')).toBe(true);
    expect(matches('a || b', 'c')).toBe(false);
    expect(matches('a || b')).toBe(false);
    expect(matches('a && b', 'a')).toBe(false);
    expect(matches('a && b', 'a', 'b')).toBe(true);
    // (!a && b) || c
    expect(matches('!a && b || c', 'b')).toBe(true);
    expect(matches('!a && b || c', 'a', 'b')).toBe(false);
    expect(matches('!a && b || c', 'a', 'c')).toBe(true);
    // a || (b && c)
    expect(matches('a || b && c', 'b')).toBe(false);
    expect(matches('(a || b) && c', 'b', 'c')).toBe(true);
    expect(matches('!(a || b)')).toBe(true);
    expect(matches('!(a || b)', 'b')).toBe(false);
    expect(matches('!!a', 'a')).toBe(true);
    // Tags are case-sensitive and may contain . _ : -
    expect(matches('Orders', 'orders')).toBe(false);
    expect(matches('orders.eu && k:1 && x-y_z', 'orders.eu', 'k:1', 'x-y_z')).toBe(true);
  });

  it('treats * as every record, and knows when a filter is no filter', () => {
    expect(TagFilter.parse('*').matches(new Set())).toBe(true);
    expect(TagFilter.parse(' * ').matchesEverything).toBe(true);
    expect(TagFilter.parse('!*').matches(new Set(['a']))).toBe(false);
    expect(TagFilter.parse('a || *').matches(new Set())).toBe(true);
    expect(TagFilter.parse('a || *').matchesEverything).toBe(false);
  });

  it('parses chains into one n-ary node and prints canonically', () => {
    expect(parseTagExpression('a||b || c')).toEqual({
      kind: 'or',
      operands: [
        { kind: 'tag', name: 'a' },
        { kind: 'tag', name: 'b' },
        { kind: 'tag', name: 'c' },
      ],
    });
    expect(TagFilter.parse('((a))&&!(b||c)  ||\td').toString()).toBe('a && !(b || c) || d');
    expect(TagFilter.parse('(a || b) || c').toString()).toBe('(a || b) || c');
  });

  it('agrees with an independent evaluation over random expressions, spacing and parentheses', () => {
    fc.assert(
      fc.property(
        expressionArb,
        fc.infiniteStream(fc.boolean()),
        fc.infiniteStream(fc.constantFrom('', '', ' ', '  ', '\t', '\n')),
        fc.array(tagSetArb, { minLength: 1, maxLength: 8 }),
        (tree, parens, spaces, tagSets) => {
          const extraParens = parens[Symbol.iterator]();
          const whitespace = spaces[Symbol.iterator]();
          const { filter, js } = render(
            tree,
            () => extraParens.next().value!,
            () => whitespace.next().value!,
          );
          const parsed = parseTagExpression(filter);
          for (const tags of tagSets) {
            const expected = referenceEvaluate(tree, tags);
            expect(jsEvaluate(js, tags)).toBe(expected);
            expect(evaluateTagExpression(parsed, tags)).toBe(expected);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('round-trips print -> parse to the same tree, and printing is canonical', () => {
    fc.assert(
      fc.property(expressionArb, (tree) => {
        const text = formatTagExpression(tree);
        const parsed = parseTagExpression(text);
        expect(parsed).toEqual(tree);
        expect(formatTagExpression(parsed)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('either parses or throws a TagFilterSyntaxError with a position inside the text', () => {
    const alphabet = fc.constantFrom('a', 'b', ' ', '|', '&', '!', '(', ')', '*', '#', ',', '-');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 24 }), (chars) => {
        const text = chars.join('');
        try {
          parseTagExpression(text);
        } catch (error) {
          expect(error).toBeInstanceOf(TagFilterSyntaxError);
          const position = (error as TagFilterSyntaxError).position;
          expect(position).toBeGreaterThanOrEqual(0);
          expect(position).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['', 0, 'empty expression (use * to match every record)'],
    ['   ', 3, 'empty expression (use * to match every record)'],
    ['a | b', 2, 'single "|"; the operator is "||"'],
    ['a & b', 2, 'single "&"; the operator is "&&"'],
    ['a ||', 4, 'end of expression where a tag, "*", "!" or "(" was expected'],
    ['a || && b', 5, 'character "&" where a tag, "*", "!" or "(" was expected'],
    ['(a || b', 7, '"(" at position 0 is never closed'],
    ['(a b)', 3, 'unexpected character "b"; expected ")" or an operator'],
    ['a)', 1, 'unmatched ")"'],
    ['a b', 2, 'unexpected character "b"; expected "||", "&&" or the end'],
    ['#a', 0, 'character "#" where a tag, "*", "!" or "(" was expected'],
    ['a || b,c', 6, 'unexpected character ","; expected "||", "&&" or the end'],
    ['!', 1, 'end of expression where a tag, "*", "!" or "(" was expected'],
    ['()', 1, 'character ")" where a tag, "*", "!" or "(" was expected'],
    ['a || é', 5, 'character "é" where a tag, "*", "!" or "(" was expected'],
  ])('rejects %j at position %i: %s', (text, position, reason) => {
    const error = syntaxError(text);
    expect(error.position).toBe(position);
    expect(error.reason).toBe(reason);
    expect(error.expression).toBe(text);
    expect(error.message).toBe(`invalid tag filter at position ${position}: ${reason}`);
  });

  it('bounds tag length, nesting and expression length', () => {
    expect(parseTagExpression('x'.repeat(64))).toEqual({ kind: 'tag', name: 'x'.repeat(64) });
    expect(syntaxError(`a || ${'x'.repeat(65)}`)).toMatchObject({
      position: 5,
      reason: 'tag longer than 64 characters',
    });
    const deepest = `${'('.repeat(MAX_NESTING)}a${')'.repeat(MAX_NESTING)}`;
    expect(parseTagExpression(deepest)).toEqual({ kind: 'tag', name: 'a' });
    expect(syntaxError(`${'('.repeat(MAX_NESTING + 1)}a${')'.repeat(MAX_NESTING + 1)}`)).toMatchObject({
      position: MAX_NESTING,
      reason: `nested deeper than ${MAX_NESTING} levels`,
    });
    expect(syntaxError(`${'!'.repeat(1000)}a`).position).toBe(MAX_NESTING);
    expect(syntaxError('a'.padEnd(MAX_EXPRESSION_LENGTH + 1, ' ')).position).toBe(MAX_EXPRESSION_LENGTH);
    // A long but shallow expression is fine.
    const wide = Array.from({ length: 500 }, (_, i) => `t${i}`).join(' || ');
    expect(wide.length).toBeLessThanOrEqual(MAX_EXPRESSION_LENGTH);
    expect(TagFilter.parse(wide).matches(new Set(['t499']))).toBe(true);
  });
});
