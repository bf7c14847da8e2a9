import { MonkError, formatLocation } from '@monk/model';
import type { ErrorCode, SourceLocation } from '@monk/model';

/** What an Arrow error says about where it happened. */
export interface ArrowErrorSite {
  /** The whole expression as the caller gave it. */
  readonly expression: string;
  /** 0-based offset inside `expression`. */
  readonly offset: number;
  readonly location?: SourceLocation | undefined;
  readonly operator?: string | undefined;
  readonly cause?: unknown;
}

const maxQuotedExpression = 200;

/**
 * Builds the MonkError every Arrow failure becomes: the message names the expression, the 1-based column (and line,
 * for multi-line expressions) inside it, and the template location when the caller knows it.
 */
export function arrowError(code: ErrorCode, message: string, site: ArrowErrorSite): MonkError {
  const { line, column } = lineAndColumn(site.expression, site.offset);
  const quoted =
    site.expression.length > maxQuotedExpression
      ? `${site.expression.slice(0, maxQuotedExpression)}…`
      : site.expression;
  const position = line === 1 ? `column ${column}` : `line ${line}, column ${column}`;
  const where = site.location === undefined ? '' : ` in ${formatLocation(site.location)}`;
  return new MonkError(
    code,
    `${message} (at ${position} of arrow expression ${JSON.stringify(quoted)}${where})`,
    {
      ...(site.location === undefined ? {} : { location: site.location }),
      ...(site.cause === undefined ? {} : { cause: site.cause }),
      details: {
        expression: quoted,
        line,
        column,
        ...(site.operator === undefined ? {} : { operator: site.operator }),
      },
    },
  );
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let index = 0; index < end; index += 1) {
    if (text.charCodeAt(index) === 10) {
      line += 1;
      lineStart = index + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
