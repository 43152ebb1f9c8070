import { ProtocolError } from '../errors.js';
import { isTagCharacter, MAX_TAG_LENGTH } from './tags.js';

/**
 * Tag filter expressions: which records a consumer wants, by their tags.
 *
 *   expression := or
 *   or         := and ( "||" and )*
 *   and        := unary ( "&&" unary )*
 *   unary      := "!" unary | primary
 *   primary    := TAG | "*" | "(" or ")"
 *   TAG        := 1-64 characters of [A-Za-z0-9._:-]   (case-sensitive)
 *
 * Precedence is ! > && > ||, as in C and JavaScript; && and || associate left. A tag is true when
 * the record carries it; `*` is true for every record (the expression `*` alone means "no filter").
 * Whitespace between tokens is ignored. The empty expression is an error, not "everything".
 *
 * Parsing is pure and bounded: at most MAX_EXPRESSION_LENGTH characters and MAX_NESTING levels
 * of "(" and "!", so a hostile expression sent to a broker cannot exhaust its stack.
 */

export type TagExpression =
  | { readonly kind: 'all' }
  | { readonly kind: 'tag'; readonly name: string }
  | { readonly kind: 'not'; readonly operand: TagExpression }
  /** At least two operands; a chain `a || b || c` is one node. */
  | { readonly kind: 'and' | 'or'; readonly operands: readonly TagExpression[] };

export const MAX_EXPRESSION_LENGTH = 4096;
export const MAX_NESTING = 64;

/** The expression does not parse. `position` is the 0-based index of the offending character. */
export class TagFilterSyntaxError extends ProtocolError {
  override name = 'TagFilterSyntaxError';
  constructor(
    readonly expression: string,
    readonly position: number,
    readonly reason: string,
  ) {
    super(`invalid tag filter at position ${position}: ${reason}`);
  }
}

export function parseTagExpression(text: string): TagExpression {
  return new Parser(text).parseAll();
}

class Parser {
  private position = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  parseAll(): TagExpression {
    if (this.text.length > MAX_EXPRESSION_LENGTH)
      throw this.error(MAX_EXPRESSION_LENGTH, `longer than ${MAX_EXPRESSION_LENGTH} characters`);
    this.skipSpace();
    if (this.atEnd()) throw this.error(this.position, 'empty expression (use * to match every record)');
    const expression = this.parseOr();
    this.skipSpace();
    if (!this.atEnd()) {
      throw this.peek() === ')'
        ? this.error(this.position, 'unmatched ")"')
        : this.error(this.position, `unexpected ${this.describe()}; expected "||", "&&" or the end`);
    }
    return expression;
  }

  private parseOr(): TagExpression {
    const operands = [this.parseAnd()];
    while (this.takeOperator('|')) operands.push(this.parseAnd());
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  }

  private parseAnd(): TagExpression {
    const operands = [this.parseUnary()];
    while (this.takeOperator('&')) operands.push(this.parseUnary());
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  private parseUnary(): TagExpression {
    this.skipSpace();
    const start = this.position;
    const char = this.peek();
    if (char === '!') {
      this.position++;
      this.enter(start);
      const operand = this.parseUnary();
      this.depth--;
      return { kind: 'not', operand };
    }
    if (char === '(') {
      this.position++;
      this.enter(start);
      const inner = this.parseOr();
      this.skipSpace();
      if (this.peek() !== ')') {
        throw this.atEnd()
          ? this.error(this.position, `"(" at position ${start} is never closed`)
          : this.error(this.position, `unexpected ${this.describe()}; expected ")" or an operator`);
      }
      this.position++;
      this.depth--;
      return inner;
    }
    if (char === '*') {
      this.position++;
      return { kind: 'all' };
    }
    if (char !== undefined && isTagCharacter(char)) {
      while (!this.atEnd() && isTagCharacter(this.peek()!)) this.position++;
      if (this.position - start > MAX_TAG_LENGTH)
        throw this.error(start, `tag longer than ${MAX_TAG_LENGTH} characters`);
      return { kind: 'tag', name: this.text.slice(start, this.position) };
    }
    throw this.error(start, `${this.describe()} where a tag, "*", "!" or "(" was expected`);
  }

  /** Consumes `||` or `&&` (given its character); a single `|` or `&` is an error, not an operator. */
  private takeOperator(char: '|' | '&'): boolean {
    this.skipSpace();
    if (this.peek() !== char) return false;
    if (this.text[this.position + 1] !== char)
      throw this.error(this.position, `single "${char}"; the operator is "${char}${char}"`);
    this.position += 2;
    return true;
  }

  private enter(at: number): void {
    if (++this.depth > MAX_NESTING) throw this.error(at, `nested deeper than ${MAX_NESTING} levels`);
  }

  private skipSpace(): void {
    while (!this.atEnd() && ' \t\r\n'.includes(this.peek()!)) this.position++;
  }

  private peek(): string | undefined {
    return this.text[this.position];
  }

  private atEnd(): boolean {
    return this.position >= this.text.length;
  }

  private describe(): string {
    return this.atEnd() ? 'end of expression' : `character ${JSON.stringify(this.peek())}`;
  }

  private error(position: number, reason: string): TagFilterSyntaxError {
    return new TagFilterSyntaxError(this.text, position, reason);
  }
}

/**
 * The canonical text of an expression: single spaces around operators, parentheses only where
 * needed. Invariant: parseTagExpression(formatTagExpression(e)) is structurally equal to e.
 */
export function formatTagExpression(expression: TagExpression): string {
  switch (expression.kind) {
    case 'all':
      return '*';
    case 'tag':
      return expression.name;
    case 'not': {
      const operand = expression.operand;
      const text = formatTagExpression(operand);
      return operand.kind === 'and' || operand.kind === 'or' ? `!(${text})` : `!${text}`;
    }
    case 'and':
      return expression.operands
        .map((o) =>
          o.kind === 'and' || o.kind === 'or' ? `(${formatTagExpression(o)})` : formatTagExpression(o),
        )
        .join(' && ');
    case 'or':
      // An `or` operand of an `or` is parenthesized so that the tree's shape survives a round trip.
      return expression.operands
        .map((o) => (o.kind === 'or' ? `(${formatTagExpression(o)})` : formatTagExpression(o)))
        .join(' || ');
  }
}

/** Whether a record with `tags` matches. Recursion depth is bounded by MAX_NESTING. */
export function evaluateTagExpression(expression: TagExpression, tags: ReadonlySet<string>): boolean {
  switch (expression.kind) {
    case 'all':
      return true;
    case 'tag':
      return tags.has(expression.name);
    case 'not':
      return !evaluateTagExpression(expression.operand, tags);
    case 'and':
      return expression.operands.every((o) => evaluateTagExpression(o, tags));
    case 'or':
      return expression.operands.some((o) => evaluateTagExpression(o, tags));
  }
}
