// One-line logs: `<time> <service> <level> <message> key=value …`, readable in a terminal and by grep.
export type Level = 'debug' | 'info' | 'warn' | 'error';
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line carries these fields first (as pino's child loggers do): `log.child({ runId })`. */
  child(fields: Record<string, unknown>): Logger;
}

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function render(fields: Record<string, unknown> | undefined): string {
  if (!fields) return '';
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`)
    .join('');
}

/**
 * Lines for one stream, written together once per turn of the event loop. A pipe (how `npm start` and the tests
 * run the services) is written synchronously, one system call a line: with a line per status change, resuming
 * 1,000 runs spent a fifth of the engine's time writing its log. Whatever is still held is written when the
 * process exits.
 */
class LineBuffer {
  private lines = '';
  private scheduled = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  push(line: string): void {
    this.lines += line;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.lines === '') return;
    const lines = this.lines;
    this.lines = '';
    this.stream.write(lines);
  }
}

let buffers: { out: LineBuffer; err: LineBuffer } | undefined;

/** Write every log line still held (on exit: a service that exits right after logging why still says it). */
export function flushLogs(): void {
  buffers?.out.flush();
  buffers?.err.flush();
}

export function createLogger(service: string, minLevel: Level = (process.env.LOG_LEVEL as Level | undefined) ?? 'info'): Logger {
  const threshold = ORDER[minLevel] ?? ORDER.info;
  if (!buffers) {
    buffers = { out: new LineBuffer(process.stdout), err: new LineBuffer(process.stderr) };
    process.on('exit', flushLogs);
  }
  const { out, err } = buffers;
  const make = (bound: string): Logger => {
    const write = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
      if (ORDER[level] < threshold) return;
      const line = `${new Date().toISOString()} ${service} ${level} ${message}${bound}${render(fields)}\n`;
      (level === 'error' || level === 'warn' ? err : out).push(line);
    };
    return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (fields) => make(bound + render(fields)) };
  };
  return make('');
}
