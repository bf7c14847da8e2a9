import { MonkError } from '@monk/model';

const blank = new Set([' ', '\t', '\n', '\r']);
// Inside double quotes a backslash escapes only these characters, as in POSIX sh.
const escapableInDoubleQuotes = new Set(['\\', '"', '$', '`', '\n']);

/**
 * Splits a command string into words the way Compose does for a string `command`, `entrypoint` or
 * healthcheck `test`: whitespace separates words, single quotes are literal, double quotes allow `\"`, `\\`,
 * `\$` and `` \` `` escapes, a backslash outside quotes escapes the next character. No variable expansion,
 * globbing or comments: that is the shell's job, not Compose's.
 *
 * @throws MonkError `COMPOSE_INVALID` on an unterminated quote.
 * @example splitShellWords(`sh -c 'echo "a b"'`) // ['sh', '-c', 'echo "a b"']
 */
export function splitShellWords(input: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const unterminated = (quote: string): MonkError =>
    new MonkError('COMPOSE_INVALID', `unterminated ${quote} quote in command ${JSON.stringify(input)}`);
  while (i < input.length) {
    const c = input.charAt(i);
    if (blank.has(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i += 1;
    } else if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw unterminated('single');
      word += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i += 1;
      let closed = false;
      while (i < input.length) {
        const d = input.charAt(i);
        if (d === '"') {
          closed = true;
          i += 1;
          break;
        }
        const next = input.charAt(i + 1);
        if (d === '\\' && escapableInDoubleQuotes.has(next)) {
          if (next !== '\n') word += next;
          i += 2;
        } else {
          word += d;
          i += 1;
        }
      }
      if (!closed) throw unterminated('double');
    } else if (c === '\\') {
      const next = input.charAt(i + 1);
      if (next === '') {
        word += '\\';
        inWord = true;
      } else if (next !== '\n') {
        word += next;
        inWord = true;
      }
      i += 2;
    } else {
      word += c;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) words.push(word);
  return words;
}
