/**
 * Driving `ckpty shell` as a user does: from a real terminal (a node-pty the test
 * owns), by typing, and by looking at what the terminal shows.
 *
 *   const term = await startShellSession({ cwd });      // ckpty shell -- bash, prompt shown
 *   await term.run('stty ckpt ^T');                     // type a command, wait for the prompt
 *   term.type('\x05');
 *   await term.waitFor(/ckpt: froze .*\n/);
 */
import * as nodePty from 'node-pty';
import xtermHeadless from '@xterm/headless';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cliRootFor, ROOT, stopProcesses, until, type TestUser } from './fixtures.js';

export const CKPTY = join(ROOT, 'bin/ckpty');
/** The inner shell's prompt; bash prints bracketed-paste switches around it. */
export const PROMPT = 'PROMPT$ ';
const PROMPT_AT_END = /PROMPT\$ $/;

export interface TerminalOptions {
  cwd: string;
  env?: Record<string, string>;
  cols?: number;
  rows?: number;
}

/** The environment sessions run in: a predictable prompt, no user start-up files. */
export function testEnvironment(cwd: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: cwd,
    // No history file: bash writes one at its HUP, into HOME, while a test removes the directory.
    HISTFILE: '/dev/null',
    TERM: 'xterm',
    LANG: 'C.UTF-8',
    SHELL: '/bin/bash',
    PS1: PROMPT,
    ...extra,
  };
}

/** A program on a real pty, with everything it displayed. */
export class TestTerminal {
  private text = '';
  private ended: { exitCode: number; signal?: number } | undefined;
  readonly exited: Promise<{ exitCode: number; signal?: number }>;
  private readonly term: nodePty.IPty;

  constructor(file: string, args: string[], options: TerminalOptions) {
    this.term = nodePty.spawn(file, args, {
      name: 'xterm',
      cols: options.cols ?? 80,
      rows: options.rows ?? 24,
      cwd: options.cwd,
      env: options.env ?? testEnvironment(options.cwd),
      encoding: null,
    });
    this.term.onData((data) => (this.text += (data as unknown as Buffer).toString('latin1')));
    this.exited = new Promise((resolve) =>
      this.term.onExit(({ exitCode, signal }) => {
        this.ended = signal ? { exitCode, signal } : { exitCode };
        resolve(this.ended);
      }),
    );
  }

  get pid(): number {
    return this.term.pid;
  }

  /** Everything shown so far (bytes as latin1). */
  get output(): string {
    return this.text;
  }

  /** A position in the output, for waiting on what comes after it. */
  mark(): number {
    return this.text.length;
  }

  since(mark: number): string {
    return this.text.slice(mark);
  }

  type(keys: string): void {
    this.term.write(Buffer.from(keys, 'latin1'));
  }

  resize(cols: number, rows: number): void {
    this.term.resize(cols, rows);
  }

  async waitFor(pattern: RegExp, options: { after?: number; timeoutMs?: number } = {}): Promise<RegExpMatchArray> {
    const after = options.after ?? 0;
    let match: RegExpMatchArray | null = null;
    try {
      await until(() => (match = this.text.slice(after).match(pattern)) !== null, options.timeoutMs ?? 10_000);
    } catch {
      const shown = this.text.slice(Math.max(after, this.text.length - 800));
      throw new Error(`timed out waiting for ${pattern} on the terminal; it shows: ${JSON.stringify(shown)}`);
    }
    return match as unknown as RegExpMatchArray;
  }

  /** The screen as a terminal emulator (xterm.js) draws the output: its lines, right-trimmed. */
  async screen(): Promise<string[]> {
    const emulator = new xtermHeadless.Terminal({ cols: this.term.cols, rows: this.term.rows, allowProposedApi: true, scrollback: 1000 });
    await new Promise<void>((resolve) => emulator.write(Buffer.from(this.text, 'latin1'), resolve));
    const buffer = emulator.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < buffer.length; y++) lines.push(buffer.getLine(y)?.translateToString(true) ?? '');
    emulator.dispose();
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    return lines;
  }

  /** Type a command line and wait for the prompt to come back; what the command printed. */
  async run(command: string, timeoutMs = 10_000): Promise<string> {
    const before = this.mark();
    this.type(`${command}\r`);
    await this.waitFor(PROMPT_AT_END, { after: before, timeoutMs });
    const shown = cleanLines(this.since(before));
    // Drop the echo of the command line and the next prompt.
    return shown.slice(shown.indexOf('\n') + 1, shown.length - PROMPT.length);
  }

  /** Wait for the prompt to be the last thing on the screen. */
  async prompt(after = 0): Promise<void> {
    await this.waitFor(PROMPT_AT_END, { after });
  }

  /**
   * End the program as closing its terminal does (a ckpty session then ends its job and
   * removes its socket's directory), with SIGKILL after 3 s if it is still there.
   */
  kill(signal = 'SIGHUP'): void {
    if (this.ended) return;
    this.term.kill(signal);
    if (signal !== 'SIGKILL') setTimeout(() => this.kill('SIGKILL'), 3000).unref();
  }
}

/** Terminal text as lines: CR LF to LF, bracketed-paste switches removed. */
export function cleanLines(text: string): string {
  return text.replace(/\x1b\[\?2004[hl]/g, '').replace(/\r+\n/g, '\n').replace(/\r/g, '');
}

/**
 * `bin/ckpty` as `user` can run `ckpty shell`: fixtures' copy of the CLI (when the
 * checkout is not readable to them) plus what a session needs besides: node-pty and
 * the in-session stty.
 */
export function sessionCliFor(user: TestUser): string {
  const root = cliRootFor(user);
  if (root !== ROOT) {
    for (const part of ['node_modules/node-pty', 'tty/stty']) {
      if (!existsSync(join(root, part))) cpSync(join(ROOT, part), join(root, part), { recursive: true });
    }
    spawnSync('chmod', ['-R', 'a+rX', root]);
  }
  return join(root, 'bin/ckpty');
}

export interface SessionOptions extends Partial<TerminalOptions> {
  cwd: string;
  /** Options for `ckpty shell` (before `--`). */
  ckptyArgs?: string[];
}

/**
 * `ckpty shell [ckptyArgs] -- bash --norc --noprofile` on a fresh terminal, with the
 * core size limit raised (freezing refuses a limit of 0, as core dumps do); resolves
 * once the inner prompt is shown.
 */
export async function startShellSession(options: SessionOptions): Promise<TestTerminal> {
  const term = new TestTerminal(
    'prlimit',
    ['--core=unlimited', '--', CKPTY, 'shell', ...(options.ckptyArgs ?? []), '--', 'bash', '--norc', '--noprofile'],
    { ...options, env: options.env ?? testEnvironment(options.cwd) },
  );
  sessions.add(term);
  void term.exited.then(() => sessions.delete(term));
  await term.prompt();
  return term;
}

const sessions = new Set<TestTerminal>();

/** For afterEach: end every session a test left running. */
export function stopSessions(): void {
  for (const term of sessions) term.kill();
  sessions.clear();
}

/** For afterEach in tests that also start processes of their own (fixtures.ts's startProcess). */
export function stopSessionsAndProcesses(): void {
  stopSessions();
  stopProcesses();
}
