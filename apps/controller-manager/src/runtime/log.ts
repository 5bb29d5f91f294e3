// JSON log lines (one object per line on stdout), the form every Keel process writes.
export type Fields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  with(fields: Fields): Logger;
}

export function jsonLogger(write: (line: string) => void = (l) => process.stdout.write(l), base: Fields = {}): Logger {
  const emit = (level: string, msg: string, fields?: Fields) =>
    write(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...base, ...fields }) + '\n');
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    with: (fields) => jsonLogger(write, { ...base, ...fields }),
  };
}

/** A logger that drops everything (unit tests). */
const drop = (): void => undefined;
export const silentLogger: Logger = { info: drop, warn: drop, error: drop, with: () => silentLogger };
