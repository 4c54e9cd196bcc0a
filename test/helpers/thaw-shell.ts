/**
 * An interactive bash on a real pseudo-terminal, driven as a user would: type a
 * command, wait for what appears, freeze its foreground program from outside, type
 * `ckpty thaw FILE` into the same shell.
 */
import { readFileSync } from 'node:fs';
import { freezeProcess } from '../../src/freezer/freeze.js';
import { childPids, startOnPty, until, type PtyProcess, type StartOptions } from './fixtures.js';
import { CLI } from './thaw.js';

export interface Shell {
  readonly pty: PtyProcess;
  /** Type text as keystrokes (use \r for Enter, \x03 for ^C). */
  type(text: string): void;
  /** Forget the output so far: later waits look only at what comes after. */
  mark(): void;
  /** Output since the last mark. */
  since(): string;
  /** Wait until the output since the last mark matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** The terminal's foreground process group (the job a key press would reach), as we see it. */
  foreground(): number;
  /** The pid of the shell's foreground program (its only child), once there is one. */
  child(): Promise<number>;
  /** Resolves once the process waits for terminal input (what is typed before might go to the shell). */
  waitingForInput(pid: number): Promise<void>;
  /** $? of the last command, asked at the prompt. */
  status(): Promise<number>;
  /** The terminal modes as `stty -g` prints them, asked at the prompt. */
  modes(): Promise<string>;
}

/** Syscalls a program waits for its terminal in: read, poll, select, pselect6, ppoll. */
const INPUT_SYSCALLS = new Set([0, 7, 23, 270, 271]);

function waitsForInput(pid: number): boolean {
  try {
    const nr = Number(readFileSync(`/proc/${pid}/syscall`, 'latin1').split(' ')[0]);
    return INPUT_SYSCALLS.has(nr);
  } catch {
    return false;
  }
}

export interface ShellOptions extends Omit<StartOptions, 'stdout'> {
  /** The `ckpty` the shell's `ckpty` runs (one the user can read); default the checkout's. */
  cli?: string;
}

/** Field 8 of /proc/PID/stat: the foreground process group of its terminal. */
function terminalForeground(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[5]);
}

export async function startShell(options: ShellOptions = {}): Promise<Shell> {
  const pty = startOnPty('bash', ['--norc', '--noprofile', '-i'], options);
  let offset = 0;
  const since = (): string => pty.output().slice(offset);
  const shell: Shell = {
    pty,
    type: (text) => pty.write(text),
    mark: () => (offset = pty.output().length),
    since,
    waitFor: async (pattern, timeoutMs = 10_000) => {
      let match: RegExpMatchArray | null = null;
      try {
        await until(() => (match = since().match(pattern)) !== null, timeoutMs, `${pattern} on the terminal`);
      } catch (err) {
        // What the terminal shows by then, to see why.
        throw new Error(`${(err as Error).message} (have: ${JSON.stringify(since().slice(-600))})`);
      }
      return match as unknown as RegExpMatchArray;
    },
    foreground: () => terminalForeground(pty.pid),
    child: async () => {
      let pids: number[] = [];
      await until(() => (pids = childPids(pty.pid)).length === 1, 5000, 'the shell to start a program');
      return pids[0] as number;
    },
    waitingForInput: (pid) => until(() => waitsForInput(pid), 5000, `process ${pid} to read its terminal`),
    status: async () => {
      shell.mark();
      shell.type('echo "rc=$?."\r');
      return Number((await shell.waitFor(/rc=(\d+)\./))[1]);
    },
    modes: async () => {
      shell.mark();
      shell.type('echo "modes=$(stty -g)."\r');
      return (await shell.waitFor(/modes=([0-9a-f:]+)\./))[1] as string;
    },
  };
  // node-pty passes the test worker's open descriptors on (other terminals' masters among
  // them); the freezer rightly refuses programs holding those, so the shell drops them.
  const dropInherited = 'for f in /proc/$$/fd/*; do n=${f##*/}; case $n in 0|1|2|255) ;; *) eval "exec $n>&-" ;; esac; done';
  shell.type(`PS1='$ '; ckpty() { ${options.cli ?? CLI} "$@"; }; ${dropInherited}; echo "shell ready."\r`);
  await shell.waitFor(/shell ready\.\r?\n/);
  shell.mark();
  return shell;
}

/** Freeze the shell's foreground program from outside (as `ckpty freeze` would); resolves at the shell's next prompt. */
export async function freezeForeground(shell: Shell, image: string): Promise<void> {
  const pid = await shell.child();
  shell.mark();
  await freezeProcess(pid, { output: image });
  await shell.waitFor(/\$ $/);
}

/** Type `ckpty thaw IMAGE` (after `before`, e.g. `stty sane;`) and wait until the program runs. */
export async function thawInShell(shell: Shell, image: string, before = ''): Promise<void> {
  shell.mark();
  shell.type(`${before}ckpty thaw ${image}\r`);
  await shell.waitFor(/ckpty: thawed \S+\[\d+\] from [^\n]*\n/);
}
