/**
 * `ckpty` (the full-screen terminal) used as a user would: inside tmux, with
 * keystrokes, looking at the screen. Real bash, python3, vim, stty.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TmuxRig } from './helpers/terminal-tmux.js';

let rigs: TmuxRig[] = [];
afterEach(async () => {
  await Promise.all(rigs.map((rig) => rig.destroy()));
  rigs = [];
});

async function start(options: ConstructorParameters<typeof TmuxRig>[0] = {}): Promise<TmuxRig> {
  const rig = new TmuxRig(options);
  rigs.push(rig);
  await rig.waitFor((s) => s.startsWith('ck$'), 'the prompt in the pane');
  return rig;
}

/** The fields of /proc/PID/stat after the command's name: state, ppid, pgrp… */
function stat(pid: number): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
}

/** The first child of a process, once it has one. */
async function childOf(parent: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      try {
        if (Number(stat(Number(name))[1]) === parent) return Number(name);
      } catch {
        // Ended while we looked.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`process ${parent} has no child`);
}

/** A counter that prints one number every 100 ms: single-threaded, freezable. */
const COUNTER = `python3 -c 'import time, itertools
for i in itertools.count(): print("count", i, flush=True); time.sleep(0.1)'`;

/**
 * The last number the counter printed. The ^E echo may land in front of the last line
 * (the host echoes at once; the program's own output may still be in the pty): `^Ecount 6`.
 */
function lastCount(screen: string): number {
  const counts = [...screen.matchAll(/^(?:\^E)?count (\d+)$/gm)].map((m) => Number(m[1]));
  return counts.length ? counts[counts.length - 1]! : -1;
}

/**
 * The counter's numbers below the thaw line: the lines it had printed (the thaw paints
 * them again), then what it prints on. They must go on by one, no number lost or twice.
 */
function expectCountingOn(screen: string, frozenAt: number): void {
  const after = screen.slice(screen.indexOf('ckpty: thawed'));
  const counts = [...after.matchAll(/^(?:\^E)?count (\d+)$/gm)].map((m) => Number(m[1]));
  expect(counts).toContain(frozenAt);
  expect(counts).toContain(frozenAt + 1);
  expect(counts).toEqual(counts.map((_, i) => counts[0]! + i));
}

describe('ckpty full-screen terminal', () => {
  it('shows the shell in the pane and the status line on the last row; keys reach the shell', async () => {
    const rig = await start({ cols: 80, rows: 24 });
    const lines = rig.lines();
    expect(lines).toHaveLength(24);
    await rig.waitFor(() => /^ pts\/\d+ +fg bash\[\d+\] +ckpt=\^E .*\^\] \? help$/.test(rig.statusLine()), 'the status line');
    // ^E at the prompt is readline's end-of-line, not a checkpoint (the shell is in the foreground).
    rig.type('cho abc');
    rig.keys('C-a');
    rig.type('e');
    rig.keys('C-e');
    rig.type('def');
    rig.keys('Enter');
    await rig.waitFor((s) => /^abcdef$/m.test(s), 'the edited line to run');
    expect(readdirSync(rig.cwd).filter((n) => n.endsWith('.ckpt'))).toEqual([]);
  });

  it('the prefix key twice sends it to the program', async () => {
    const rig = await start();
    rig.type('od -An -c');
    rig.keys('Enter');
    await rig.waitFor((s) => s.includes('od -An -c'), 'od to start');
    rig.keys('C-]', 'C-]', 'Enter', 'C-d');
    await rig.waitFor((s) => /035\s+\\n/.test(s), 'od to show the byte 035');
  });

  it("the program's cursor-key mode (DECCKM) reaches the outer terminal, so keys arrive encoded as it asked", async () => {
    const rig = await start();
    for (const [mode, encoding] of [['h', /033\s+O\s+A/], ['l', /033\s+\[\s+A/]] as const) {
      rig.type(`clear; printf '\\033[?1${mode}'; od -An -c`);
      rig.keys('Enter');
      await rig.waitFor(() => /fg od\[/.test(rig.statusLine()), 'od to start');
      // The mode reaches tmux when ckpty has parsed printf's output, which may be after
      // od is in front: type only once the outer terminal is in the program's mode.
      const flag = mode === 'h' ? '1' : '0';
      await rig.waitFor(() => rig.tmux('display-message', '-p', '-t', 'ui', '#{keypad_cursor_flag}').trim() === flag, `tmux cursor-key mode ${flag}`);
      rig.keys('Up', 'Enter', 'C-d');
      await rig.waitFor((s) => encoding.test(s), `Up as ${encoding}`);
    }
  });

  it('a resize of the outer terminal reaches the program', async () => {
    const rig = await start({ cols: 80, rows: 24 });
    rig.type('stty size');
    rig.keys('Enter');
    await rig.waitFor((s) => /^23 80$/m.test(s), 'stty size 23 80 (24 rows minus the status line)');
    rig.resize(100, 30);
    // ckpty resizes the pty in the same step as it redraws the status line for the new width.
    await rig.waitFor(() => rig.statusLine().length > 90 && rig.statusLine().endsWith('^] ? help'), 'ckpty to redraw at 100x30');
    rig.type('stty size');
    rig.keys('Enter');
    await rig.waitFor((s) => /^29 100$/m.test(s), 'stty size 29 100');
    // The hint moved to the new right edge (the row's last cell is a blank).
    expect(rig.statusLine()).toMatch(/^ pts\/\d+ .*\^\] \? help$/);
    expect(rig.statusLine()).toHaveLength(99);
  });

  it('^E freezes a counter; the status line says so and nothing is written into the pane', async () => {
    const rig = await start({ cols: 100, rows: 30 });
    rig.type(COUNTER);
    rig.keys('Enter');
    await rig.waitFor((s) => lastCount(s) >= 5, 'the counter to count');
    rig.keys('C-e');
    const image = join(rig.cwd, 'python3.ckpt');
    await rig.waitFor(() => /froze python3\[\d+\] -> python3\.ckpt \(/.test(rig.statusLine()), 'the freeze report');
    expect(statSync(image).mode & 0o777).toBe(0o600);
    await rig.waitFor((s) => /^(\^E)?ck\$$/m.test(s), 'the prompt back');
    const frozenAt = lastCount(rig.screen());
    // The report is on the status row only.
    expect(rig.lines().slice(0, -1).join('\n')).not.toContain('froze');
    await rig.waitFor(() => /fg bash\[/.test(rig.statusLine()), 'the shell named on the status line');

    rig.type('clear; ckpty thaw python3.ckpt');
    rig.keys('Enter');
    await rig.waitFor((s) => lastCount(s) > frozenAt + 3, 'the thawed counter to go on');
    expectCountingOn(rig.screen(), frozenAt);
    rig.keys('C-c');
  });

  it("^E at python3's prompt: the shell's prompt comes back on a line of its own, not after `>>> `", async () => {
    const rig = await start({ cols: 100, rows: 30 });
    rig.type('python3 -q');
    rig.keys('Enter');
    await rig.waitFor((s) => /^>>>$/m.test(s), "python3's prompt");
    rig.keys('C-e');
    await rig.waitFor(() => /froze python3\[\d+\]/.test(rig.statusLine()), 'the freeze report');
    await rig.waitFor((s) => /^ck\$/m.test(s.split('>>>')[1] ?? ''), "the shell's prompt after python3's");
    expect(rig.screen()).toMatch(/^>>>\nck\$$/m);
  });

  it('the prefix command s takes a snapshot: the image is written and the job runs on', async () => {
    const rig = await start({ cols: 100, rows: 30 });
    rig.type(COUNTER);
    rig.keys('Enter');
    await rig.waitFor((s) => lastCount(s) >= 2, 'the counter');
    rig.keys('C-]', 's');
    await rig.waitFor(() => /snapshot of python3\[\d+\] -> python3\.ckpt \(/.test(rig.statusLine()), 'the snapshot report');
    const at = lastCount(rig.screen());
    await rig.waitFor((s) => lastCount(s) > at + 3, 'the counter to run on');
    expect(existsSync(join(rig.cwd, 'python3.ckpt'))).toBe(true);
    rig.keys('C-c');
  });

  it('a job that cannot be frozen is refused with the reason on the status line, and keeps running', async () => {
    const rig = await start({ cols: 170 });
    // A TCP connection cannot be rebuilt: the whole pipeline stays as it is.
    rig.type(`python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
while True: print("ti" "ck", flush=True); time.sleep(0.2)' | cat`);
    rig.keys('Enter');
    await rig.waitFor((s) => /^tick$/m.test(s), 'the pipeline to run');
    rig.keys('C-e');
    await rig.waitFor(() => /not frozen: .*TCP socket/.test(rig.statusLine()), 'the refusal');
    const ticks = (rig.screen().match(/^tick$/gm) ?? []).length;
    await rig.waitFor((s) => (s.match(/^tick$/gm) ?? []).length > ticks + 2, 'more ticks');
    expect(rig.lines().slice(0, -1).join('\n')).not.toMatch(/not frozen/);
    rig.keys('C-c');
  });

  // vim.tiny: Debian's full vim starts glibc's timer helper thread (timer_create with
  // SIGEV_THREAD), and the freezer refuses multi-threaded processes.
  it('vim (ISIG off) is frozen by the prefix command and thawed with its unsaved buffer', async () => {
    const rig = await start({ cols: 100, rows: 30 });
    rig.type('vim.tiny -u NONE -i NONE -N notes.txt');
    rig.keys('Enter');
    await rig.waitFor((s) => s.includes('"notes.txt" [New]') || s.includes('"notes.txt" [New File]'), 'vim to start');
    rig.keys('i');
    rig.type('unsaved line one');
    rig.keys('Enter');
    rig.type('unsaved line two');
    rig.keys('Escape');
    await rig.waitFor((s) => s.includes('unsaved line two'), 'the typed text');
    // ^E in vim is vim's (scroll), not a checkpoint: vim has ISIG off.
    rig.keys('C-e');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(join(rig.cwd, 'vim.tiny.ckpt'))).toBe(false);
    await rig.waitFor(() => /fg vim\.tiny\[\d+\]/.test(rig.statusLine()), 'vim named on the status line');

    rig.keys('C-]', 'f');
    await rig.waitFor(() => /froze vim\.tiny\[\d+\] -> vim\.tiny\.ckpt/.test(rig.statusLine()), 'the freeze report');
    await rig.waitFor(() => /fg bash\[/.test(rig.statusLine()), 'the shell back in the foreground');
    expect(existsSync(join(rig.cwd, 'notes.txt'))).toBe(false);

    rig.type('clear; ckpty thaw vim.tiny.ckpt');
    rig.keys('Enter');
    // vim redraws itself (the ^E above had scrolled line one out of its window).
    await rig.waitFor((s) => s.includes('unsaved line two') && !s.includes('ckpty thaw'), 'vim back on the screen');
    rig.keys('C-y');
    await rig.waitFor((s) => s.includes('unsaved line one'), 'vim to scroll back');
    rig.type(':wq');
    rig.keys('Enter');
    await rig.waitFor(() => /fg bash\[/.test(rig.statusLine()), 'vim to finish');
    expect(readFileSync(join(rig.cwd, 'notes.txt'), 'utf8')).toBe('unsaved line one\nunsaved line two\n');
  });

  it('help overlay, scrollback mode, and quitting asks first when a job runs', async () => {
    const rig = await start({ cols: 80, rows: 24 });
    rig.type('seq 1 300');
    rig.keys('Enter');
    await rig.waitFor((s) => /^300$/m.test(s), 'seq to finish');

    rig.keys('C-]', '?');
    await rig.waitFor((s) => s.includes('ckpty help') && s.includes('freeze the foreground job'), 'help');
    rig.keys('Space');
    await rig.waitFor((s) => !s.includes('ckpty help'), 'help to close');

    rig.keys('C-]', '[');
    await rig.waitFor(() => rig.statusLine().includes('scrollback:'), 'scrollback mode');
    rig.keys('PPage', 'PPage');
    await rig.waitFor((s) => /^2\d\d$/m.test(s) && !/^300$/m.test(s), 'older lines');
    rig.keys('g');
    await rig.waitFor((s) => /^1$/m.test(s), 'the top of the history');
    rig.keys('q');
    await rig.waitFor((s) => /^300$/m.test(s) && !rig.statusLine().includes('scrollback'), 'live again');

    rig.type('sleep 100');
    rig.keys('Enter');
    await rig.waitFor(() => /fg sleep\[\d+\]/.test(rig.statusLine()), 'sleep in the foreground');
    rig.keys('C-]', 'q');
    await rig.waitFor((s) => /sleep\[\d+\] is running\. Quit anyway/.test(s), 'the question');
    rig.keys('n');
    await rig.waitFor((s) => !s.includes('Quit anyway'), 'the question to go');
    rig.keys('C-c');
    await rig.waitFor(() => /fg bash\[/.test(rig.statusLine()), 'the shell back');
    rig.keys('C-]', 'q');
    await rig.waitFor(() => rig.exitStatus() === '129', 'ckpty to end with the shell hung up (128+SIGHUP)');
    // The outer terminal is as before: normal screen, cursor shown, cursor keys and keypad normal.
    expect(rig.tmux('display-message', '-p', '-t', 'ui', '#{alternate_on} #{cursor_flag} #{keypad_cursor_flag} #{keypad_flag}').trim()).toBe('0 1 0 0');
  });

  it('the image list shows images here and thaws the chosen one at the prompt', async () => {
    const rig = await start({ cols: 110, rows: 30 });
    rig.type(COUNTER);
    rig.keys('Enter');
    await rig.waitFor((s) => lastCount(s) >= 3, 'the counter');
    rig.keys('C-e');
    await rig.waitFor(() => /froze python3/.test(rig.statusLine()), 'the freeze');
    await rig.waitFor((s) => /^(\^E)?ck\$$/m.test(s), 'the prompt back');
    const frozenAt = lastCount(rig.screen());
    rig.type('clear');
    rig.keys('Enter');
    await rig.waitFor((s) => !s.includes('count'), 'clear');

    writeFileSync(join(rig.cwd, 'junk.ckpt'), 'not an image');
    rig.keys('C-]', 'l');
    await rig.waitFor((s) => /python3\.ckpt +python3\[\d+\] +[\d.]+ [KM]iB +\d{4}-\d\d-\d\d \d\d:\d\d/.test(s), 'the list');
    expect(rig.screen()).toMatch(/junk\.ckpt +unreadable: /);
    rig.keys('Enter');
    await rig.waitFor((s) => /^ck\$ ckpty thaw python3\.ckpt$/m.test(s), 'the thaw command typed at the prompt');
    await rig.waitFor((s) => lastCount(s) > frozenAt + 2, 'the counter to go on');
    expectCountingOn(rig.screen(), frozenAt);
    rig.keys('C-c');
  });

  // Closing a terminal window: the terminal hangs up (ckpty reads EOF), and the shell that
  // ran ckpty sends it SIGHUP. Either way the job gets SIGHUP and ckpty ends by SIGHUP,
  // in the full-screen terminal and in plain mode (`ckpty shell`) alike. `kill` (SIGTERM)
  // or SIGINT end the session the same way, with the terminal still there: ckpty then
  // exits with 128 + the signal and gives the terminal back as it was.
  it.each([
    ['terminal closed', 'full-screen', 129, []],
    ['SIGHUP from the parent shell', 'full-screen', 129, []],
    ['terminal closed', 'plain mode', 129, ['shell']],
    ['SIGHUP from the parent shell', 'plain mode', 129, ['shell']],
    ['SIGTERM', 'full-screen', 143, []],
    ['SIGINT', 'full-screen', 130, []],
    ['SIGTERM', 'plain mode', 143, ['shell']],
    ['SIGINT', 'plain mode', 130, ['shell']],
  ])('%s (%s): the session is hung up, ckpty ends with status %i without a crash and removes its socket', async (how, _mode, status, args) => {
    const rig = await start({ args });
    rig.type('echo pid=$$');
    rig.keys('Enter');
    const shellPid = Number(/^pid=(\d+)$/m.exec(await rig.waitFor((s) => /^pid=\d+$/m.test(s), "the shell's pid"))![1]);
    const ckptyPid = Number(stat(shellPid)[1]);
    const socket = /(?:^|\0)CKPTY_SOCKET=([^\0]*)/.exec(readFileSync(`/proc/${shellPid}/environ`, 'latin1'))![1]!;
    expect(existsSync(socket)).toBe(true);
    rig.type('sleep 300');
    rig.keys('Enter');
    const sleepPid = await childOf(shellPid);
    if (how === 'terminal closed') {
      rig.closeTerminal();
    } else {
      process.kill(ckptyPid, how.startsWith('SIGHUP') ? 'SIGHUP' : how);
    }
    const deadline = Date.now() + 10_000;
    while ((rig.exitStatus() === undefined || existsSync(`/proc/${sleepPid}`)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(rig.exitStatus()).toBe(String(status));
    expect(existsSync(`/proc/${sleepPid}`)).toBe(false);
    expect(existsSync(join(rig.home, 'core'))).toBe(false);
    expect(existsSync(dirname(socket))).toBe(false);
    expect(rig.stderr()).toBe('');
    if (status === 128 + 1) return;
    // Normal screen, cursor shown, cursor keys and keypad normal; the line discipline cooked again.
    expect(rig.tmux('display-message', '-p', '-t', 'ui', '#{alternate_on} #{cursor_flag} #{keypad_cursor_flag} #{keypad_flag}').trim()).toBe('0 1 0 0');
    const paneTty = rig.tmux('display-message', '-p', '-t', 'ui', '#{pane_tty}').trim();
    const words = execFileSync('stty', ['-a', '-F', paneTty], { encoding: 'utf8' }).split(/[\s;]+/);
    expect(['icanon', 'isig', 'echo', 'opost', 'icrnl'].filter((word) => !words.includes(word))).toEqual([]);
  });
});
