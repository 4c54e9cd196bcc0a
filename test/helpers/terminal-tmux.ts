/**
 * Drives `ckpty` (the full-screen terminal) the way a user would: inside a
 * real terminal emulator, tmux, with send-keys for typing and capture-pane for
 * looking. Each rig has its own tmux server, its socket in the rig's own directory
 * (removed with it), so tests do not meet and leave nothing behind.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, chmodSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CKPTY_BIN = fileURLToPath(new URL('../../bin/ckpty', import.meta.url));

export interface TmuxOptions {
  cols?: number;
  rows?: number;
  /** Arguments after `ckpty`. */
  args?: string[];
  /** Directory the shell starts in (default: the rig's own temporary directory). */
  cwd?: string;
}

/** tmux's pane variables for the modes a program can set (tmux 3.3). */
const TERMINAL_MODES =
  'alternate_on cursor_flag keypad_cursor_flag keypad_flag mouse_any_flag mouse_button_flag mouse_standard_flag ' +
  'mouse_sgr_flag mouse_utf8_flag insert_flag origin_flag wrap_flag scroll_region_upper scroll_region_lower cursor_x cursor_y';

export class TmuxRig {
  /** Temporary HOME with a predictable bash prompt; also the default cwd. */
  readonly home: string;
  readonly cwd: string;

  constructor(options: TmuxOptions = {}) {
    this.home = mkdtempSync(join(tmpdir(), 'ckpty-ui-'));
    chmodSync(this.home, 0o755);
    this.cwd = options.cwd ?? this.home;
    writeFileSync(join(this.home, '.bashrc'), "PS1='ck$ '\nunset PROMPT_COMMAND HISTFILE\n");
    // `ckpty` on PATH, as an installed one would be.
    mkdirSync(join(this.home, 'bin'));
    symlinkSync(CKPTY_BIN, join(this.home, 'bin', 'ckpty'));
    const conf = join(this.home, 'tmux.conf');
    // No tmux status bar (the pane is the whole window); 256 colours; quick Esc.
    writeFileSync(conf, 'set -g status off\nset -g default-terminal tmux-256color\nset -g escape-time 10\n');
    const command = [
      `cd ${quote(this.cwd)}`,
      // A core size limit of 0 refuses checkpoints (as it refuses core dumps).
      'ulimit -c unlimited',
      `export PATH=${quote(join(this.home, 'bin'))}:"$PATH"`,
      `env HOME=${quote(this.home)} SHELL=/bin/bash LANG=C.UTF-8 ${quote(CKPTY_BIN)} ${(options.args ?? []).map(quote).join(' ')}` +
        ` 2>${quote(join(this.home, 'stderr'))}`,
    ].join('; ');
    // After ckpty, its status goes to the screen and to a file. The wrapper traps SIGHUP
    // (a trap, unlike an ignore, is not inherited by ckpty), so that it outlives a closed
    // terminal long enough to record how ckpty ended. Then `cat` keeps the pane (and the
    // terminal state ckpty left) until the terminal goes away: it reads EOF then.
    const after = `status=$?; echo "$status" >${quote(join(this.home, 'status'))}; echo CKPTY-EXIT=$status; exec cat >/dev/null`;
    this.tmux('-f', conf, 'new-session', '-d', '-s', 'ui', '-x', String(options.cols ?? 80), '-y', String(options.rows ?? 24), `bash -c ${quote(`trap : HUP; ${command}; ${after}`)}`);
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', join(this.home, 'tmux.sock'), ...args], { encoding: 'utf8' });
  }

  /** The visible screen, one string per row (trailing blanks trimmed). */
  lines(): string[] {
    return this.tmux('capture-pane', '-p', '-t', 'ui').replace(/\n$/, '').split('\n').map((l) => l.trimEnd());
  }

  screen(): string {
    return this.lines().join('\n');
  }

  /** The visible screen with every cell's attributes (as SGR sequences): for comparing screens cell by cell. */
  cells(): string {
    return this.tmux('capture-pane', '-p', '-e', '-t', 'ui');
  }

  /** The modes the terminal is in: alternate screen, cursor, key encodings, mouse reporting, scroll region. */
  modes(): Record<string, string> {
    const names = TERMINAL_MODES.split(' ');
    const values = this.tmux('display', '-p', '-t', 'ui', names.map((name) => `#{${name}}`).join(' ')).trim().split(' ');
    return Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']));
  }

  /** The last row: ckpty's status line. */
  statusLine(): string {
    const lines = this.lines();
    return lines[lines.length - 1] ?? '';
  }

  /** tmux key names: 'Enter', 'C-e', 'C-]', 'PPage', 'Escape'… */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'ui', ...keys);
  }

  /** Literal text. */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'ui', '-l', text);
  }

  resize(cols: number, rows: number): void {
    this.tmux('resize-window', '-t', 'ui', '-x', String(cols), '-y', String(rows));
  }

  async waitFor(test: (screen: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (test(screen)) return screen;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; screen:\n${screen}\nstderr: ${this.stderr()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** ckpty's exit status as its parent saw it (128+N: ended by signal N), once it has ended. */
  exitStatus(): string | undefined {
    try {
      return readFileSync(join(this.home, 'status'), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** Closes the outer terminal, as closing a terminal window does. */
  closeTerminal(): void {
    this.tmux('kill-server');
  }

  stderr(): string {
    try {
      return readFileSync(join(this.home, 'stderr'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Closes the terminal, waits for ckpty to end (its wrapper then records the status), cleans up. */
  async destroy(): Promise<void> {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    const deadline = Date.now() + 5000;
    while (this.exitStatus() === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    rmSync(this.home, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }
}

function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
