/**
 * The oracle for the stty model: the system's GNU stty, run on a real pty that a small
 * python3 process holds open. Cases run in one bash process per batch (fast: one
 * fork of bash, then only stty's own start-up per command).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export class PtyHolder {
  private constructor(
    private readonly child: ChildProcess,
    readonly path: string,
  ) {}

  /** Open a pty whose slave stays open until close(); its termios is a fresh pty's. */
  static async open(): Promise<PtyHolder> {
    const child = spawn(
      'python3',
      ['-c', 'import os,pty,sys\nm,s=pty.openpty()\nprint(os.ttyname(s),flush=True)\nsys.stdin.read()'],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    let line = '';
    for await (const chunk of child.stdout!) {
      line += String(chunk);
      if (line.includes('\n')) break;
    }
    const path = line.trim();
    if (!path.startsWith('/dev/')) throw new Error(`pty holder printed ${JSON.stringify(line)}`);
    return new PtyHolder(child, path);
  }

  async close(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.stdin?.end();
    await exited;
  }
}

export interface GnuCase {
  /** Arguments of one `stty` command run after the reset. */
  args: readonly string[];
  /** COLUMNS for the printing commands (GNU's wrap width when stdout is not a tty). */
  columns?: number;
}

export interface GnuOutcome {
  stdout: string;
  stderr: string;
  status: number;
  /** `stty -a`, `stty -g` and plain `stty` after the command. */
  all: string;
  saved: string;
  changed: string;
}

const shellQuote = (arg: string): string => `'${arg.replaceAll("'", `'\\''`)}'`;

/**
 * For each case: reset the pty with `reset` (stty arguments), run `stty ARGS`, then
 * print the settings three ways. All outputs are exact bytes.
 */
export function runGnuCases(pty: PtyHolder, reset: readonly string[], cases: readonly GnuCase[]): GnuOutcome[] {
  const stty = `stty -F ${shellQuote(pty.path)}`;
  const lines = ['d=$(mktemp -d)', 'trap \'rm -rf "$d"\' EXIT', 'sep() { printf "\\0"; }'];
  for (const gnuCase of cases) {
    const columns = gnuCase.columns === undefined ? '' : `COLUMNS=${gnuCase.columns} `;
    lines.push(
      `${stty} ${reset.map(shellQuote).join(' ')} 2>/dev/null`,
      `${stty} ${gnuCase.args.map(shellQuote).join(' ')} >"$d/o" 2>"$d/e"; rc=$?`,
      `cat "$d/o"; sep; cat "$d/e"; sep; printf %d $rc; sep`,
      `${columns}${stty} -a; sep; ${stty} -g; sep; ${columns}${stty}; sep`,
    );
  }
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  delete env.COLUMNS;
  // The script goes through stdin: as one argument it would exceed the kernel's limit.
  const output = execFileSync('bash', ['-s'], { input: Buffer.from(lines.join('\n')), env, maxBuffer: 64 << 20, encoding: 'latin1' });
  const fields = output.split('\0');
  return cases.map((_, index) => {
    const [stdout = '', stderr = '', status = '', all = '', saved = '', changed = ''] = fields.slice(index * 6, index * 6 + 6);
    return { stdout, stderr, status: Number(status), all, saved, changed };
  });
}

/** Run one stty command on the pty and return its stdout (throws on failure). */
export function gnuStty(pty: PtyHolder, args: readonly string[]): string {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  delete env.COLUMNS;
  return execFileSync('stty', ['-F', pty.path, ...args], { env, encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'] });
}
