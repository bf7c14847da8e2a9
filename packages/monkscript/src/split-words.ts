import { MonkError } from '@monk/model';

/**
 * Splits a command line the way a POSIX shell splits words (single and double quotes, backslash
 * escapes), without expanding anything. Throws `TEMPLATE_INVALID` for an unterminated quote.
 *
 * @example
 * splitWords(`mongod --bind_ip_all --replSet "db rs"`); // ['mongod', '--bind_ip_all', '--replSet', 'db rs']
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index] ?? '';
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else current += char;
      continue;
    }
    if (char === '\\' && index + 1 < line.length) {
      const next = line[index + 1] ?? '';
      if (quote === '"' && !'"\\$`'.includes(next)) current += char;
      current += next;
      index += 1;
      inWord = true;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = undefined;
      else current += char;
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quote !== undefined)
    throw new MonkError('TEMPLATE_INVALID', `unterminated ${quote} in "${line.slice(0, 80)}"`);
  if (inWord) words.push(current);
  return words;
}
