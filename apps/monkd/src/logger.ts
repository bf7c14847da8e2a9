/** The daemon's logger: one JSON object per line on stderr. Passed to components, never global. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(name: string): Logger;
}

const levels = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof levels;

export function createLogger(options: {
  level: LogLevel;
  name?: string;
  write?: (line: string) => void;
}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const make = (name: string | undefined): Logger => {
    const emit = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
      if (levels[level] < levels[options.level]) return;
      const record = {
        time: new Date().toISOString(),
        level,
        ...(name === undefined ? {} : { component: name }),
        message,
        ...fields,
      };
      write(`${JSON.stringify(record)}\n`);
    };
    return {
      debug: emit('debug'),
      info: emit('info'),
      warn: emit('warn'),
      error: emit('error'),
      child: (child) => make(name === undefined ? child : `${name}.${child}`),
    };
  };
  return make(options.name);
}
