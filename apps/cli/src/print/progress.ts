// Progress and colour for a person at a terminal only: a spinner that rewrites one line, and
// red/yellow for errors and warnings. When stdout (or stderr, for colour there) is not a
// terminal, or NO_COLOR is set, nothing is drawn and output stays plain and scriptable.

export interface Stream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export function colourful(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env['NO_COLOR'] === undefined;
}

export function red(text: string, stream: Stream = process.stderr): string {
  return colourful(stream) ? `\x1b[31m${text}\x1b[0m` : text;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Spinner {
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private text = '';
  readonly live: boolean;

  constructor(
    private readonly stream: Stream = process.stdout,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.live = colourful(stream, env);
  }

  /** Shows (or changes) the message; a no-op away from a terminal. */
  update(text: string): void {
    this.text = text;
    if (!this.live) return;
    this.draw();
    this.timer ??= setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  private draw(): void {
    this.stream.write(`\r\x1b[2K${FRAMES[this.frame++ % FRAMES.length]} ${this.text}`);
  }

  /** Clears the line so what follows prints cleanly. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.live && this.text) this.stream.write('\r\x1b[2K');
    this.text = '';
  }
}

/** Runs work under a spinner (on a terminal); the line is cleared when it ends either way. */
export async function withSpinner<T>(text: string, work: () => Promise<T>, stream: Stream = process.stdout, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const spinner = new Spinner(stream, env);
  spinner.update(text);
  try {
    return await work();
  } finally {
    spinner.stop();
  }
}
