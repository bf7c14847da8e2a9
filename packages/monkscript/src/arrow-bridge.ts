import type { JsonValue, SourceLocation } from '@monk/model';
import { evaluateArrow } from './arrow/evaluate.ts';
import type { ArrowHost, ArrowScope } from './arrow/evaluate.ts';
import { isArrowExpression, parseArrow } from './arrow/parse.ts';
import type { ArrowProgram, ArrowSequence } from './arrow/parse.ts';

export type { ArrowHost, ArrowScope, ArrowProgram };
export { isArrowExpression };

const arrowPrefix = /^\s*<-/;

/** Parses the code of an expression, with or without its `<-` prefix. Throws `ARROW_SYNTAX`. */
export function parseExpression(code: string, location?: SourceLocation): ArrowProgram {
  return parseArrow(code.replace(arrowPrefix, ''), location);
}

/** Evaluates a parsed expression (see the Arrow evaluator for the rules). */
export function runExpression(
  program: ArrowProgram,
  options: { scope: ArrowScope; host: ArrowHost; location?: SourceLocation },
): Promise<JsonValue> {
  return evaluateArrow(program, options);
}

/** The variables an expression reads (`$name`, `${name}` in backtick strings), in order of appearance. */
export function freeVariables(program: ArrowProgram): string[] {
  const names = new Set<string>();
  const visit = (sequence: ArrowSequence): void => {
    for (const node of sequence) {
      switch (node.kind) {
        case 'variable':
          names.add(node.name);
          break;
        case 'template':
          for (const part of node.parts) if (part.kind === 'variable') names.add(part.name);
          break;
        case 'array':
          for (const item of node.items) visit(item);
          break;
        case 'object':
          for (const entry of node.entries) {
            visit([entry.key]);
            visit(entry.value);
          }
          break;
        case 'function':
          visit(node.body);
          break;
        case 'operator':
          for (const arg of node.args ?? []) visit(arg);
          break;
        case 'literal':
        case 'bigint':
          break;
      }
    }
  };
  visit(program.body);
  return [...names];
}
