import { MonkError } from '@monk/model';
import type { JsonValue, SourceLocation } from '@monk/model';

/**
 * The subset of Go's text/template that Monk's `files` use: `{{ v "name" }}` / `{{ var "name" }}`,
 * `{{ if … }}…{{ else if … }}…{{ else }}…{{ end }}`, trim markers `{{-` / `-}}`, comments, literals,
 * pipelines (`|`) and the functions not, and, or, eq, ne, lt, le, gt, ge, len, print, printf.
 */
type Value = JsonValue | undefined;

type Operand =
  | { kind: 'literal'; value: Value }
  | { kind: 'call'; name: string; args: Operand[] }
  | { kind: 'pipeline'; pipeline: Command[] };
type Command = Operand[];

type TemplateNode =
  | { kind: 'text'; text: string }
  | { kind: 'output'; pipeline: Command[] }
  | { kind: 'if'; branches: { condition: Command[]; body: TemplateNode[] }[]; otherwise: TemplateNode[] };

interface Action {
  readonly text: string;
  readonly line: number;
}

interface Piece {
  readonly text?: string;
  readonly action?: Action;
}

const functions = new Set([
  'v',
  'var',
  'not',
  'and',
  'or',
  'eq',
  'ne',
  'lt',
  'le',
  'gt',
  'ge',
  'len',
  'print',
  'printf',
]);

/** What a render needs: the variables, and where the template sits (for errors). */
export interface RenderOptions {
  readonly text: string;
  /** A variable's value; undefined when it is not defined. */
  readonly lookup: (name: string) => JsonValue | undefined;
  readonly location?: SourceLocation;
  /** Called with each variable name that is not defined (rendered as ""). */
  readonly onUndefined?: (name: string) => void;
}

/**
 * Renders a file template. Throws `TEMPLATE_INVALID` naming the line inside the template for unknown
 * functions, unbalanced `if`/`end`, and unsupported actions (`range`, `with`, `define`…).
 *
 * @example
 * renderGoTemplate({ text: 'port {{ v "port" }}', lookup: (name) => ({ port: 80 })[name] }); // 'port 80'
 */
export function renderGoTemplate(options: RenderOptions): string {
  const pieces = split(options);
  const cursor = { index: 0 };
  const nodes = parseNodes(options, { pieces, cursor, closers: [] });
  if (cursor.index < pieces.length) {
    const action = pieces[cursor.index]?.action;
    throw templateError(options, {
      line: action?.line ?? 0,
      message: `unexpected {{ ${action?.text ?? ''} }}`,
    });
  }
  let output = '';
  const emit = (list: readonly TemplateNode[]): void => {
    for (const node of list) {
      switch (node.kind) {
        case 'text':
          output += node.text;
          break;
        case 'output':
          output += format(runPipeline(options, node.pipeline));
          break;
        case 'if': {
          const branch = node.branches.find((candidate) => truthy(runPipeline(options, candidate.condition)));
          emit(branch === undefined ? node.otherwise : branch.body);
          break;
        }
      }
    }
  };
  emit(nodes);
  return output;
}

function templateError(options: RenderOptions, at: { line: number; message: string }): MonkError {
  const where =
    options.location === undefined
      ? ''
      : `${options.location.file}:${options.location.line} (${options.location.path}): `;
  return new MonkError('TEMPLATE_INVALID', `${where}file template line ${at.line}: ${at.message}`, {
    ...(options.location === undefined ? {} : { location: options.location }),
  });
}

function split(options: RenderOptions): Piece[] {
  const { text } = options;
  const pieces: Piece[] = [];
  let position = 0;
  let trimNext = false;
  while (position < text.length) {
    const open = text.indexOf('{{', position);
    let literal = open < 0 ? text.slice(position) : text.slice(position, open);
    if (trimNext) literal = literal.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      pieces.push({ text: literal });
      break;
    }
    const close = text.indexOf('}}', open + 2);
    const line = text.slice(0, open).split('\n').length;
    if (close < 0) throw templateError(options, { line, message: 'unclosed {{' });
    let inner = text.slice(open + 2, close);
    if (/^-\s/.test(inner)) {
      literal = literal.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    if (/\s-$/.test(inner)) {
      trimNext = true;
      inner = inner.slice(0, -1);
    }
    pieces.push({ text: literal });
    const trimmed = inner.trim();
    if (!(trimmed.startsWith('/*') && trimmed.endsWith('*/')))
      pieces.push({ action: { text: trimmed, line } });
    position = close + 2;
  }
  return pieces;
}

function parseNodes(
  options: RenderOptions,
  state: { pieces: readonly Piece[]; cursor: { index: number }; closers: readonly string[] },
): TemplateNode[] {
  const nodes: TemplateNode[] = [];
  const { pieces, cursor } = state;
  while (cursor.index < pieces.length) {
    const piece = pieces[cursor.index];
    if (piece?.action === undefined) {
      if (piece?.text !== undefined && piece.text !== '') nodes.push({ kind: 'text', text: piece.text });
      cursor.index += 1;
      continue;
    }
    const { text, line } = piece.action;
    const word = /^[a-z]+/.exec(text)?.[0] ?? '';
    if (word === 'end' || word === 'else') {
      if (state.closers.length === 0)
        throw templateError(options, { line, message: `{{ ${word} }} without {{ if }}` });
      return nodes;
    }
    cursor.index += 1;
    if (word === 'if') {
      const branches: { condition: Command[]; body: TemplateNode[] }[] = [];
      let condition = parsePipeline(options, { text: text.slice(2), line });
      let otherwise: TemplateNode[] = [];
      for (;;) {
        const body = parseNodes(options, { pieces, cursor, closers: ['end', 'else'] });
        branches.push({ condition, body });
        const closer = pieces[cursor.index]?.action;
        if (closer === undefined)
          throw templateError(options, { line, message: '{{ if }} without {{ end }}' });
        cursor.index += 1;
        if (closer.text === 'end') break;
        if (/^else\s+if\s/.test(closer.text)) {
          condition = parsePipeline(options, {
            text: closer.text.replace(/^else\s+if/, ''),
            line: closer.line,
          });
          continue;
        }
        if (closer.text !== 'else')
          throw templateError(options, { line: closer.line, message: `unexpected {{ ${closer.text} }}` });
        otherwise = parseNodes(options, { pieces, cursor, closers: ['end'] });
        const end = pieces[cursor.index]?.action;
        if (end?.text !== 'end')
          throw templateError(options, { line, message: '{{ if }} without {{ end }}' });
        cursor.index += 1;
        break;
      }
      nodes.push({ kind: 'if', branches, otherwise });
      continue;
    }
    if (['range', 'with', 'define', 'template', 'block', 'break', 'continue'].includes(word)) {
      throw templateError(options, {
        line,
        message: `{{ ${word} }} is not supported in Monk file templates`,
      });
    }
    nodes.push({ kind: 'output', pipeline: parsePipeline(options, { text, line }) });
  }
  if (state.closers.length > 0)
    throw templateError(options, { line: 0, message: '{{ if }} without {{ end }}' });
  return nodes;
}

const token = /\s*(?:("(?:[^"\\]|\\.)*")|(`[^`]*`)|(-?\d+(?:\.\d+)?)|([A-Za-z_][\w]*)|(\()|(\))|(\|))/y;

function parsePipeline(options: RenderOptions, at: { text: string; line: number }): Command[] {
  const tokens: string[] = [];
  token.lastIndex = 0;
  const text = at.text.trim();
  while (token.lastIndex < text.length) {
    const start = token.lastIndex;
    const match = token.exec(text);
    if (match === null) {
      throw templateError(options, {
        line: at.line,
        message: `cannot read "${text.slice(start, start + 20)}"`,
      });
    }
    tokens.push(match[0].trim());
  }
  const cursor = { index: 0 };
  const pipeline = readPipeline(options, { tokens, cursor, line: at.line });
  if (cursor.index < tokens.length)
    throw templateError(options, { line: at.line, message: `unexpected "${tokens[cursor.index] ?? ''}"` });
  if (pipeline.length === 0) throw templateError(options, { line: at.line, message: 'empty action' });
  return pipeline;
}

function readPipeline(
  options: RenderOptions,
  state: { tokens: string[]; cursor: { index: number }; line: number },
): Command[] {
  const commands: Command[] = [];
  let command: Command = [];
  const { tokens, cursor } = state;
  while (cursor.index < tokens.length) {
    const current = tokens[cursor.index] ?? '';
    if (current === ')') break;
    cursor.index += 1;
    if (current === '|') {
      if (command.length === 0)
        throw templateError(options, { line: state.line, message: 'empty command before |' });
      commands.push(command);
      command = [];
    } else if (current === '(') {
      const inner = readPipeline(options, state);
      if (tokens[cursor.index] !== ')')
        throw templateError(options, { line: state.line, message: 'missing )' });
      cursor.index += 1;
      command.push({ kind: 'pipeline', pipeline: inner });
    } else {
      command.push(readOperand(options, { token: current, line: state.line }));
    }
  }
  if (command.length > 0) commands.push(command);
  return commands;
}

function readOperand(options: RenderOptions, at: { token: string; line: number }): Operand {
  const { token: text } = at;
  if (text.startsWith('"')) return { kind: 'literal', value: JSON.parse(text) as string };
  if (text.startsWith('`')) return { kind: 'literal', value: text.slice(1, -1) };
  if (/^-?\d/.test(text)) return { kind: 'literal', value: Number(text) };
  if (text === 'true' || text === 'false') return { kind: 'literal', value: text === 'true' };
  if (text === 'nil') return { kind: 'literal', value: null };
  if (!functions.has(text))
    throw templateError(options, { line: at.line, message: `unknown function "${text}"` });
  return { kind: 'call', name: text, args: [] };
}

function runPipeline(options: RenderOptions, pipeline: readonly Command[]): Value {
  let piped: { value: Value } | undefined;
  for (const command of pipeline) {
    const [head, ...rest] = command;
    if (head === undefined) continue;
    const args = rest.map((operand) => operandValue(options, operand));
    if (piped !== undefined) args.push(piped.value);
    if (head.kind !== 'call') {
      if (args.length > 0)
        throw templateError(options, { line: 0, message: 'a value cannot take arguments' });
      piped = { value: operandValue(options, head) };
    } else {
      piped = { value: call(options, { name: head.name, args }) };
    }
  }
  return piped?.value;
}

function operandValue(options: RenderOptions, operand: Operand): Value {
  switch (operand.kind) {
    case 'literal':
      return operand.value;
    case 'call':
      return call(options, { name: operand.name, args: [] });
    case 'pipeline':
      return runPipeline(options, operand.pipeline);
  }
}

function call(options: RenderOptions, invocation: { name: string; args: Value[] }): Value {
  const { name, args } = invocation;
  const first = args[0];
  const need = (count: number): void => {
    if (args.length < count)
      throw templateError(options, { line: 0, message: `${name} needs ${count} argument(s)` });
  };
  switch (name) {
    case 'v':
    case 'var': {
      need(1);
      const variable = format(first);
      const value = options.lookup(variable);
      if (value === undefined) options.onUndefined?.(variable);
      return value;
    }
    case 'not':
      need(1);
      return !truthy(first);
    case 'and':
      need(1);
      return args.find((arg) => !truthy(arg)) ?? args[args.length - 1];
    case 'or':
      need(1);
      return args.find((arg) => truthy(arg)) ?? args[args.length - 1];
    case 'eq':
      need(2);
      return args.slice(1).some((arg) => format(arg) === format(first));
    case 'ne':
      need(2);
      return format(first) !== format(args[1]);
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge': {
      need(2);
      const left = Number(first);
      const right = Number(args[1]);
      return name === 'lt'
        ? left < right
        : name === 'le'
          ? left <= right
          : name === 'gt'
            ? left > right
            : left >= right;
    }
    case 'len':
      need(1);
      return Array.isArray(first)
        ? first.length
        : typeof first === 'object' && first !== null
          ? Object.keys(first).length
          : format(first).length;
    case 'print':
      return args.map(format).join('');
    case 'printf': {
      need(1);
      let index = 1;
      return format(first).replace(/%[sdvq%]/g, (directive) => {
        if (directive === '%%') return '%';
        const value = args[index];
        index += 1;
        return directive === '%q' ? JSON.stringify(format(value)) : format(value);
      });
    }
    default:
      throw templateError(options, { line: 0, message: `unknown function "${name}"` });
  }
}

function truthy(value: Value): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function format(value: Value): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
