import type { JsonValue } from '@monk/model';
import type { ActionInfo, TemplateInfo } from '@monk/monkscript';
import { renderTable } from './render.ts';

/** `monk info PATH` as text: a heading, metadata, then a table per section that has entries. */
export function renderTemplateInfo(info: TemplateInfo): string {
  const lines: string[] = [`${info.path}${info.defines === undefined ? '' : ` (${info.defines})`}`];
  for (const [key, value] of Object.entries(info.metadata)) lines.push(`  ${key}: ${show(value)}`);
  if (info.members.length > 0) lines.push('', `members: ${info.members.join(', ')}`);
  if (info.variables.length > 0) {
    lines.push(
      '',
      'variables:',
      renderTable(
        ['NAME', 'TYPE', 'VALUE', 'ENV', 'DESCRIPTION'],
        info.variables.map((v) => [
          v.name,
          v.type ?? '',
          v.value === undefined ? '' : show(v.value),
          v.env ?? '',
          v.description ?? '',
        ]),
      ),
    );
  }
  if (info.services.length > 0) {
    lines.push(
      '',
      'services:',
      renderTable(
        ['NAME', 'CONTAINER', 'PORT', 'PROTOCOL', 'DESCRIPTION'],
        info.services.map((s) => [
          s.name,
          s.container ?? '',
          s.port === undefined ? '' : show(s.port),
          s.protocol ?? '',
          s.description ?? '',
        ]),
      ),
    );
  }
  if (info.actions.length > 0) lines.push('', 'actions:', renderActions(info.actions));
  return lines.join('\n');
}

/** `monk actions PATH` as a table: each action, its arguments (`name:type`, `[optional=default]`), description. */
export function renderActions(actions: readonly ActionInfo[]): string {
  return renderTable(
    ['ACTION', 'ARGUMENTS', 'DESCRIPTION'],
    actions.map((action) => [
      action.name,
      action.arguments
        .map((arg) => {
          const typed = `${arg.name}${arg.type === undefined ? '' : `:${arg.type}`}`;
          if (arg.required) return typed;
          return arg.default === undefined ? `[${typed}]` : `[${typed}=${show(arg.default)}]`;
        })
        .join(' '),
      action.description ?? '',
    ]),
  );
}

function show(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
