import { MonkError } from '@monk/model';
import type { JsonValue, SourceLocation } from '@monk/model';
import { arrowError } from './arrow-error.ts';
import type { ArrowHost, ArrowScope } from './arrow-host.ts';
import { findOperator, Spread } from './operators.ts';
import type { OperatorContext, OperatorSpec } from './operators.ts';
import { parseTemplate } from './parse.ts';
import type { ArrowMember, ArrowNode, ArrowProgram, ArrowSequence, ArrowTemplatePart } from './parse.ts';
import {
  ErrorValue,
  FunctionValue,
  MarkValue,
  ValueTooLargeError,
  isArray,
  isObject,
  isSpecial,
  toJsonValue,
  toText,
  typeName,
} from './values.ts';
import type { Value } from './values.ts';

export type { ArrowHost, ArrowScope } from './arrow-host.ts';

/** Bounds that keep every evaluation finite and small. */
export interface ArrowLimits {
  /** Nodes executed, including function bodies run by `map`, `filter` and `callf`. */
  readonly maxSteps: number;
  /** Values on one stack. */
  readonly maxStack: number;
  /** Characters in any string produced. */
  readonly maxString: number;
  /** Items in any array produced. */
  readonly maxItems: number;
  /** Nested function calls (`callf` inside `callf`…). */
  readonly maxCallDepth: number;
  /** Runtime operator calls (host calls). */
  readonly maxHostCalls: number;
}

/** The default {@link ArrowLimits}. */
export const defaultArrowLimits: ArrowLimits = {
  maxSteps: 100_000,
  maxStack: 10_000,
  maxString: 4 * 1024 * 1024,
  maxItems: 100_000,
  maxCallDepth: 32,
  maxHostCalls: 256,
};

/** Options of {@link evaluateArrow}. */
export interface EvaluateArrowOptions {
  readonly scope: ArrowScope;
  readonly host: ArrowHost;
  /** Where the expression sits in its template; copied into every error. */
  readonly location?: SourceLocation | undefined;
  readonly limits?: Partial<ArrowLimits> | undefined;
}

/**
 * Evaluates a parsed Arrow expression and returns the value left on top of the stack (`nil` when the stack is empty).
 * All or nothing: it resolves to a value or rejects, never to a partial result. Pure operators run in-process;
 * runtime operators (`connection-hostname`, `secret`, `exec`, `http-get`…) call `host`. BigInts come back as numbers
 * when they fit exactly, otherwise as decimal strings.
 *
 * @throws MonkError `ARROW_UNKNOWN_OPERATOR` for an operator Arrow does not know; `ARROW_EVAL` for a stack underflow,
 *   a type error, an operator the host does not provide, or a limit exceeded; a host failure that nothing handled
 *   keeps the host's code (e.g. `SECRET_NOT_FOUND`). Every error names the operator, the expression, the column and
 *   `location`.
 * @example
 * const program = parseArrow('<- $db_name default("wpdb")');
 * await evaluateArrow(program, { scope: { lookup: () => undefined }, host: {} }); // "wpdb"
 */
export async function evaluateArrow(
  program: ArrowProgram,
  options: EvaluateArrowOptions,
): Promise<JsonValue> {
  const machine = new Machine(program, options);
  const stack: Value[] = [];
  await machine.run(program.body, { stack, depth: 0 });
  return machine.result(stack);
}

/**
 * Checks, without evaluating, that every operator a program names exists, so a loader can reject a template with a
 * misspelt operator at load time rather than when it runs. (`call` with a computed name is still checked at run time.)
 *
 * @throws MonkError `ARROW_UNKNOWN_OPERATOR` naming the first unknown operator, its column and `location`.
 * @example
 * assertKnownOperators(parseArrow('<- $a frobnicate'), location); // throws ARROW_UNKNOWN_OPERATOR
 */
export function assertKnownOperators(program: ArrowProgram, location?: SourceLocation): void {
  const visit = (sequence: ArrowSequence): void => {
    for (const node of sequence) {
      switch (node.kind) {
        case 'operator':
          if (findOperator(node.name) === undefined) {
            throw arrowError('ARROW_UNKNOWN_OPERATOR', `unknown operator ${node.name}`, {
              expression: program.source,
              offset: node.offset,
              location,
              operator: node.name,
            });
          }
          for (const arg of node.args ?? []) visit(arg);
          break;
        case 'array':
          for (const item of node.items) visit(item);
          break;
        case 'object':
          for (const entry of node.entries) visit(entry.value);
          break;
        case 'function':
          visit(node.body);
          break;
        case 'literal':
        case 'bigint':
        case 'template':
        case 'variable':
          break;
      }
    }
  };
  visit(program.body);
}

/**
 * Interpolates `${name}` placeholders of a template with variables from `scope`, the rule of Arrow's backtick
 * strings, without backslash escapes (for plain template text). Values are converted as `to-s` does: nil becomes "",
 * numbers and booleans their literal form, arrays and objects JSON.
 *
 * @throws MonkError `ARROW_SYNTAX` for a malformed placeholder; `ARROW_EVAL` for a variable the scope does not define.
 * @example
 * interpolate('${monk-volume-path}/db:/var/lib/mysql', scope); // "/var/lib/monk/volumes/db:/var/lib/mysql"
 */
export function interpolate(template: string, scope: ArrowScope): string {
  const parts = parseTemplate(template, { escapes: false });
  return renderTemplate(parts, {
    lookup: (name) => scope.lookup(name),
    fail: (message, offset) => {
      throw arrowError('ARROW_EVAL', message, { expression: template, offset });
    },
    maxString: defaultArrowLimits.maxString,
  });
}

function renderTemplate(
  parts: readonly ArrowTemplatePart[],
  options: {
    lookup: (name: string) => Value | undefined;
    fail: (message: string, offset: number) => never;
    maxString: number;
  },
): string {
  let text = '';
  for (const part of parts) {
    switch (part.kind) {
      case 'text':
        text += part.text;
        break;
      case 'literal':
        text += toText(part.value, options.maxString);
        break;
      case 'variable': {
        const value = options.lookup(part.name);
        if (value === undefined) options.fail(`variable ${part.name} is not defined`, part.offset);
        if (isSpecial(value)) options.fail(`variable ${part.name} holds a ${typeName(value)}`, part.offset);
        text += toText(value, options.maxString);
        break;
      }
    }
    if (text.length > options.maxString)
      options.fail(`string longer than ${options.maxString} characters`, 0);
  }
  return text;
}

interface Frame {
  readonly stack: Value[];
  readonly depth: number;
}

class Machine {
  readonly #program: ArrowProgram;
  readonly #scope: ArrowScope;
  readonly #host: ArrowHost;
  readonly #location: SourceLocation | undefined;
  readonly #limits: ArrowLimits;
  readonly #temporaries = new Map<string, Value>();
  #steps = 0;
  #hostCalls = 0;

  constructor(program: ArrowProgram, options: EvaluateArrowOptions) {
    this.#program = program;
    this.#scope = options.scope;
    this.#host = options.host;
    this.#location = options.location;
    this.#limits = { ...defaultArrowLimits, ...options.limits };
  }

  result(stack: Value[]): JsonValue {
    const top = stack.at(-1) ?? null;
    if (top instanceof ErrorValue) throw this.#rethrow(top);
    try {
      return toJsonValue(top);
    } catch (error) {
      throw this.#error('ARROW_EVAL', {
        message: error instanceof Error ? error.message : String(error),
        offset: 0,
      });
    }
  }

  async run(body: ArrowSequence, frame: Frame): Promise<void> {
    if (frame.depth > this.#limits.maxCallDepth) {
      throw this.#error('ARROW_EVAL', {
        message: `functions nested deeper than ${this.#limits.maxCallDepth}`,
        offset: body[0]?.offset ?? 0,
      });
    }
    for (const node of body) {
      this.#step(node);
      if (node.kind === 'operator') {
        await this.#operator(node, frame);
      } else {
        const immediate = this.#immediate(node);
        const value = immediate === undefined ? await this.#compound(node, frame) : immediate;
        this.#push(frame.stack, value, node.offset);
      }
    }
  }

  #step(node: ArrowNode): void {
    this.#steps += 1;
    if (this.#steps > this.#limits.maxSteps) {
      throw this.#error('ARROW_EVAL', {
        message: `evaluation exceeded ${this.#limits.maxSteps} steps`,
        offset: node.offset,
      });
    }
  }

  #push(stack: Value[], value: Value, offset: number): void {
    if (stack.length >= this.#limits.maxStack) {
      throw this.#error('ARROW_EVAL', {
        message: `stack grew beyond ${this.#limits.maxStack} values`,
        offset,
      });
    }
    stack.push(value);
  }

  // Values that need no evaluation of sub-sequences; undefined for arrays, objects and operators.
  #immediate(node: ArrowNode): Value | undefined {
    switch (node.kind) {
      case 'literal':
        return node.value;
      case 'bigint':
        return BigInt(node.digits);
      case 'variable':
        return node.members === undefined ? this.#lookup(node.name) : this.#member(node.name, node.members);
      case 'template':
        return renderTemplate(node.parts, {
          lookup: (name) => this.#temporaries.get(name) ?? this.#scope.lookup(name),
          fail: (message, offset) => {
            throw this.#error('ARROW_EVAL', { message, offset });
          },
          maxString: this.#limits.maxString,
        });
      case 'function':
        return new FunctionValue(node.body);
      case 'array':
      case 'object':
      case 'operator':
        return undefined;
    }
  }

  async #compound(node: ArrowNode, frame: Frame): Promise<Value> {
    switch (node.kind) {
      case 'array': {
        if (node.items.length > this.#limits.maxItems) {
          throw this.#error('ARROW_EVAL', {
            message: `array longer than ${this.#limits.maxItems} items`,
            offset: node.offset,
          });
        }
        const items: Value[] = [];
        for (const item of node.items)
          items.push(await this.#single(item, frame, { what: 'an array item', offset: node.offset }));
        return items;
      }
      case 'object': {
        const entries: [string, Value][] = [];
        for (const entry of node.entries) {
          const key = this.#immediate(entry.key) ?? null;
          if (isSpecial(key))
            throw this.#error('ARROW_EVAL', {
              message: `an object key cannot be a ${typeName(key)}`,
              offset: entry.key.offset,
            });
          const value = await this.#single(entry.value, frame, {
            what: 'an object value',
            offset: entry.key.offset,
          });
          entries.push([toText(key, this.#limits.maxString), value]);
        }
        return Object.fromEntries(entries);
      }
      case 'literal':
      case 'bigint':
      case 'variable':
      case 'template':
      case 'function':
      case 'operator':
        throw this.#error('ARROW_EVAL', { message: `unexpected ${node.kind} node`, offset: node.offset });
    }
  }

  // Evaluates an argument, array item or object value: it must leave exactly one value.
  async #single(
    sequence: ArrowSequence,
    frame: Frame,
    site: { what: string; offset: number },
  ): Promise<Value> {
    const only = sequence.length === 1 ? sequence[0] : undefined;
    if (only !== undefined && only.kind !== 'operator' && only.kind !== 'array' && only.kind !== 'object') {
      this.#step(only);
      return this.#immediate(only) ?? null;
    }
    const stack: Value[] = [];
    await this.run(sequence, { stack, depth: frame.depth });
    if (stack.length !== 1) {
      throw this.#error('ARROW_EVAL', {
        message: `${site.what} must leave exactly one value, it leaves ${stack.length}`,
        offset: sequence[0]?.offset ?? site.offset,
      });
    }
    return stack[0] ?? null;
  }

  #lookup(name: string): Value {
    const temporary = this.#temporaries.get(name);
    if (temporary !== undefined) return temporary;
    return this.#scope.lookup(name) ?? null;
  }

  // `$name["key"][0]…`: each step must find what it names; a miss is an error, never a silent nil.
  #member(name: string, members: readonly ArrowMember[]): Value {
    let value = this.#lookup(name);
    let path = `$${name}`;
    for (const member of members) {
      const fail = (message: string): never => {
        throw this.#error('ARROW_EVAL', {
          message: `${path}${describeMember(member.key)}: ${message}`,
          offset: member.offset,
        });
      };
      if (isArray(value)) {
        if (typeof member.key !== 'number')
          fail(`${path} is an array; index it with a number, as in ${path}[0]`);
        const index = member.key as number;
        if (index >= value.length)
          fail(
            `index ${index} is out of range (${path} has ${value.length} item${value.length === 1 ? '' : 's'})`,
          );
        value = value[index] ?? null;
      } else if (isObject(value)) {
        const key = String(member.key);
        if (!Object.hasOwn(value, key)) {
          const keys = Object.keys(value);
          fail(
            `${path} has no key ${JSON.stringify(key)}${keys.length === 0 ? ' (it is empty)' : ` (its keys: ${keys.join(', ')})`}`,
          );
        }
        value = value[key] ?? null;
      } else {
        fail(`${path} is ${value === null ? 'nil' : `a ${typeName(value)}`}, not an object or an array`);
      }
      path += describeMember(member.key);
    }
    return value;
  }

  async #operator(node: Extract<ArrowNode, { kind: 'operator' }>, frame: Frame): Promise<void> {
    const spec = findOperator(node.name);
    if (spec === undefined) {
      throw this.#error('ARROW_UNKNOWN_OPERATOR', {
        message: `unknown operator ${node.name}`,
        offset: node.offset,
        operator: node.name,
      });
    }
    const args: Value[] = [];
    for (const [index, arg] of (node.args ?? []).entries()) {
      args.push(
        await this.#single(arg, frame, {
          what: `argument ${index + 1} of ${node.name}`,
          offset: node.offset,
        }),
      );
    }
    const values = await this.#apply({ spec, name: node.name, args, offset: node.offset }, frame);
    for (const value of values) this.#push(frame.stack, value, node.offset);
  }

  async #apply(
    call: { spec: OperatorSpec; name: string; args: readonly Value[]; offset: number },
    frame: Frame,
  ): Promise<readonly Value[]> {
    const { spec, name, args, offset } = call;
    const fail = (message: string): never => {
      throw this.#error('ARROW_EVAL', { message: `${name}: ${message}`, offset, operator: name });
    };
    const params = spec.params ?? 0;
    const optional = spec.optional ?? 0;
    if (optional !== 'rest' && args.length > params + optional) {
      fail(
        `takes at most ${params + optional} argument${params + optional === 1 ? '' : 's'}, got ${args.length}`,
      );
    }
    const operands = this.#operands({ spec, args, stack: frame.stack }, fail);
    if (!(spec.acceptsErrors ?? false)) {
      const failed = operands.find((value) => value instanceof ErrorValue);
      if (failed instanceof ErrorValue) throw this.#rethrow(failed);
    }
    if (spec.runtime ?? false) {
      this.#hostCalls += 1;
      if (this.#hostCalls > this.#limits.maxHostCalls)
        fail(`more than ${this.#limits.maxHostCalls} runtime calls`);
    }
    const context = this.#context({ name, frame, fail, offset });
    let result;
    try {
      result = spec.run(operands, context);
    } catch (error) {
      throw this.#translate(error, { offset, operator: name });
    }
    if (result instanceof Promise) {
      try {
        result = await result;
      } catch (error) {
        if (!(spec.runtime ?? false) || isArrowFailure(error))
          throw this.#translate(error, { offset, operator: name });
        result = new ErrorValue(error instanceof Error ? error : new Error(String(error)), {
          operator: name,
          offset,
        });
      }
    }
    return result instanceof Spread ? result.values : [result];
  }

  #operands(
    input: { spec: OperatorSpec; args: readonly Value[]; stack: Value[] },
    fail: (message: string) => never,
  ): Value[] {
    const { spec, args, stack } = input;
    if (spec.untilMark ?? false) {
      let markIndex = -1;
      for (let index = stack.length - 1; index >= 0; index -= 1) {
        if (stack[index] instanceof MarkValue) {
          markIndex = index;
          break;
        }
      }
      const taken = stack.splice(markIndex + 1);
      if (markIndex >= 0) stack.pop();
      return [...taken, ...args];
    }
    const needed = (spec.stack ?? 0) + Math.max(0, (spec.params ?? 0) - args.length);
    if (stack.length < needed) {
      const total = needed + args.length;
      fail(
        `needs ${total} value${total === 1 ? '' : 's'} but the stack has ${stack.length}${args.length > 0 ? ` and ${args.length} argument${args.length === 1 ? ' was' : 's were'} given` : ''}`,
      );
    }
    const taken = needed === 0 ? [] : stack.splice(stack.length - needed);
    const marked = taken.find((value) => value instanceof MarkValue);
    if (marked !== undefined) fail('found a mark where a value was expected');
    return args.length === 0 ? taken : [...taken, ...args];
  }

  #context(input: {
    name: string;
    frame: Frame;
    fail: (message: string) => never;
    offset: number;
  }): OperatorContext {
    const { name, frame, fail, offset } = input;
    return {
      name,
      host: this.#host,
      stack: frame.stack,
      limits: this.#limits,
      lookup: (variable) => this.#lookup(variable),
      setTemporary: (variable, value) => {
        this.#temporaries.set(variable, value);
      },
      unsetTemporary: (variable) => {
        this.#temporaries.delete(variable);
      },
      run: (body, stack) => this.run(body, { stack, depth: frame.depth + 1 }),
      invoke: async (operator, args) => {
        const spec = findOperator(operator);
        if (spec === undefined) {
          throw this.#error('ARROW_UNKNOWN_OPERATOR', {
            message: `unknown operator ${operator}`,
            offset,
            operator,
          });
        }
        return this.#apply({ spec, name: operator, args, offset }, frame);
      },
      fail,
      unavailable: () => {
        throw this.#error('ARROW_EVAL', {
          message: `operator ${name} is not available here`,
          offset,
          operator: name,
        });
      },
    };
  }

  #translate(error: unknown, site: { offset: number; operator: string }): MonkError {
    if (isArrowFailure(error)) return error;
    if (error instanceof ValueTooLargeError || error instanceof TypeError || error instanceof RangeError) {
      return this.#error('ARROW_EVAL', {
        message: `${site.operator}: ${error.message}`,
        ...site,
        cause: error,
      });
    }
    if (error instanceof MonkError) return this.#rethrow(new ErrorValue(error, site));
    return this.#error('ARROW_EVAL', {
      message: `${site.operator} failed: ${error instanceof Error ? error.message : String(error)}`,
      ...site,
      cause: error,
    });
  }

  // A host failure that nothing handled: keep the host's code, point at the operator that failed.
  #rethrow(failed: ErrorValue): MonkError {
    const original = failed.error;
    const code = original instanceof MonkError ? original.code : 'ARROW_EVAL';
    return this.#error(code, {
      message: `${failed.operator} failed: ${original.message}`,
      offset: failed.offset,
      operator: failed.operator,
      cause: original,
    });
  }

  #error(
    code: MonkError['code'],
    input: { message: string; offset: number; operator?: string | undefined; cause?: unknown },
  ): MonkError {
    return arrowError(code, input.message, {
      expression: this.#program.source,
      offset: input.offset,
      location: this.#location,
      operator: input.operator,
      cause: input.cause,
    });
  }
}

function describeMember(key: string | number): string {
  return typeof key === 'number' ? `[${key}]` : `[${JSON.stringify(key)}]`;
}

function isArrowFailure(error: unknown): error is MonkError {
  return error instanceof MonkError && error.code.startsWith('ARROW_');
}
