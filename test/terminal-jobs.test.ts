/**
 * The terminal side of a freeze and a thaw with everyday programs, judged by a real
 * terminal emulator (tmux: capture-pane, its pane modes): who the key acts on, the
 * terminal after a freeze (screen, modes, stty), the screen after a thaw (cell by cell),
 * nothing drawn over a program's screen. `ckpty shell` (plain mode) unless said.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatBytes } from '../src/base/format.js';
import { runCli } from './helpers/freezer.js';
import { ROOT } from './helpers/fixtures.js';
import { TmuxRig } from './helpers/terminal-tmux.js';

let rigs: TmuxRig[] = [];
afterEach(async () => {
  await Promise.all(rigs.map((rig) => rig.destroy()));
  rigs = [];
});

const PROMPT = /^ck\$ ?$/m;

/** A session in tmux: plain mode (`ckpty shell`) by default, `[]` for the full-screen terminal. */
async function start(args = ['shell'], size = { cols: 100, rows: 30 }): Promise<TmuxRig> {
  const rig = new TmuxRig({ ...size, args });
  rigs.push(rig);
  await rig.waitFor((s) => PROMPT.test(s), 'the prompt');
  return rig;
}

/** Type a line and press Enter (tmux takes a `;` at the end of an argument for its own separator). */
function run(rig: TmuxRig, command: string): void {
  rig.type(command.replace(/;$/, ''));
  if (command.endsWith(';')) rig.keys('\\;');
  rig.keys('Enter');
}

/** The modes a shell's terminal has at its prompt in tmux (bash's bracketed paste is not among tmux's variables). */
function shellModes(modes: Record<string, string>): Record<string, string> {
  const { cursor_x: _x, cursor_y: _y, ...rest } = modes;
  return rest;
}

/** `stty -a` as a job of the shell sees it, written to a file. */
async function sttyAll(rig: TmuxRig, name: string): Promise<string> {
  const file = join(rig.cwd, name);
  run(rig, `stty -a > ${name}; echo ${name}-done`);
  await rig.waitFor((s) => s.includes(`\n${name}-done`), name);
  return readFileSync(file, 'utf8');
}

/** Numbers that tick on their own (clocks, load, CPU) blanked, for "modulo clock fields". */
const withoutClocks = (screen: string): string => screen.replace(/\d\d:\d\d(:\d\d)?|\d+\.\d+/g, '#');

/**
 * Freeze `command`'s program with the key (`freeze`), check the terminal the shell gets
 * back, thaw it, and compare its screen with the one it had, cell by cell.
 */
async function freezeAndThaw(
  rig: TmuxRig,
  options: {
    command: string;
    ready: (screen: string) => boolean;
    /** Keys for the program once it is ready (what it shows then must come back too). */
    typed?: string;
    image: string;
    freeze: () => void;
    /** The program's part of the screen (the full-screen terminal's status line is not). */
    pane?: (screen: string) => string;
  },
): Promise<void> {
  const pane = options.pane ?? ((screen: string) => screen);
  const sttyBefore = await sttyAll(rig, 'stty-before');
  const modesBefore = shellModes(rig.modes());
  run(rig, `clear; ${options.command}`);
  await rig.waitFor(options.ready, options.command);
  if (options.typed) rig.type(options.typed);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const screen = pane(rig.cells());
  const cursor = [rig.modes().cursor_x, rig.modes().cursor_y];
  const programModes = rig.modes();

  options.freeze();
  await rig.waitFor((s) => /froze \S+\[\d+\] -> /.test(s) && PROMPT.test(s), 'the freeze and the prompt');
  // The shell's terminal is back: its screen, modes and settings as before the program.
  expect(shellModes(rig.modes())).toEqual(modesBefore);
  expect(await sttyAll(rig, 'stty-after')).toBe(sttyBefore);

  run(rig, `clear; ckpty thaw ${options.image}`);
  await rig.waitFor(() => withoutClocks(pane(rig.cells())) === withoutClocks(screen), 'the screen as it was, cell by cell');
  expect([rig.modes().cursor_x, rig.modes().cursor_y]).toEqual(cursor);
  expect(rig.modes()).toEqual(programModes);
}

describe('the key acts on jobs, not on shells at their prompt or programs that use ^E', () => {
  it('a nested bash --norc at its prompt gets ^E: end of line', async () => {
    const rig = await start();
    run(rig, 'bash --norc');
    await rig.waitFor((s) => /^bash-[\d.]+[#$]$/m.test(s), 'the nested prompt');
    rig.type('echo 12');
    rig.keys('C-a', 'C-e');
    rig.type('3');
    rig.keys('Enter');
    await rig.waitFor((s) => /^123$/m.test(s), 'echo 123');
    expect(rig.screen()).not.toContain('ckpt:');
  });

  it('a nested bash frozen from outside and thawed: the same $$, and an external command runs', async () => {
    const rig = await start();
    run(rig, 'bash --norc');
    await rig.waitFor((s) => /^bash-[\d.]+[#$]$/m.test(s), 'the nested prompt');
    run(rig, 'echo $$ > nested.pid');
    // Written by bash a moment after the line is typed: it may not exist at the first look.
    const pidFile = join(rig.cwd, 'nested.pid');
    await rig.waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'latin1').endsWith('\n'), 'the pid file');
    const pid = readFileSync(pidFile, 'latin1').trim();
    const frozen = await runCli(['freeze', pid], { root: ROOT });
    expect(frozen.stderr).toBe('');
    // The outer shell's prompt, printed where the nested one left the cursor.
    await rig.waitFor((s) => s.trimEnd().endsWith('ck$'), 'the outer prompt');
    run(rig, 'clear; ckpty thaw bash.ckpt');
    await rig.waitFor((s) => s.includes('ckpty: thawed'), 'the thaw');
    run(rig, 'echo "pid=$$"; /bin/echo external-ran');
    await rig.waitFor((s) => /^external-ran$/m.test(s), 'the external command');
    expect(rig.screen()).toMatch(new RegExp(`^pid=${pid}$`, 'm'));
    run(rig, 'exit');
    await rig.waitFor((s) => s.trimEnd().endsWith('ck$'), 'the outer prompt again');
  });

  it('emacs -nw -Q gets ^E: end of line, and nothing is printed over its buffer', async () => {
    const rig = await start();
    run(rig, 'emacs -nw -Q');
    await rig.waitFor((s) => s.includes('*scratch*'), 'emacs');
    rig.keys('M->');
    rig.type('hello world');
    rig.keys('C-a', 'C-e');
    rig.type('X');
    await rig.waitFor((s) => s.includes('hello worldX'), 'the X at the end of the line');
    expect(rig.screen()).not.toContain('ckpt');
    rig.keys('C-x', 'C-c');
    await rig.waitFor((s) => PROMPT.test(s), 'emacs to end');
  });

  it('--pass and stty ckpt-pass change the list: python3 then gets ^E, and then the key again', async () => {
    const rig = await start(['shell', '--pass', '+python3']);
    run(rig, 'stty ckpt-pass');
    await rig.waitFor((s) => /ckpt-pass = sh,.*,bash,.*,emacs,.*,zile,python3$/m.test(s.replace(/\n(?!ck\$)/g, '')), 'the list');
    run(rig, 'python3 -q');
    await rig.waitFor((s) => /^>>>$/m.test(s), 'python3');
    rig.type('1+1');
    rig.keys('C-a', 'C-e');
    rig.type('0');
    rig.keys('Enter');
    await rig.waitFor((s) => /^11$/m.test(s), '1+10');
    rig.keys('C-d');
    await rig.waitFor((s) => /^ck\$$/m.test(s.trimEnd().split('\n').at(-1) ?? ''), 'the prompt');
    run(rig, 'stty ckpt-pass -python3,-bash');
    run(rig, 'bash --norc');
    await rig.waitFor((s) => /^bash-[\d.]+[#$]/m.test(s), 'the nested prompt');
    rig.keys('C-e');
    await rig.waitFor((s) => /froze bash\[\d+\] -> /.test(s), 'the nested shell frozen');
  });
});

describe('plain mode: the terminal after a freeze is the shell\'s, and the screen comes back with the program', () => {
  it.each([
    ['htop (alternate screen, keypad, mouse)', 'htop -d 600', (s: string) => s.includes('F10Quit'), 'htop.ckpt'],
    ['less (its page and prompt)', 'less numbers.txt', (s: string) => s.includes('numbers.txt'), 'less.ckpt'],
    ['top (the whole normal screen; the thaw line goes to the history)', 'top -d 600', (s: string) => /^\s+PID USER/m.test(s), 'top.ckpt'],
  ])('%s: after the thaw the same screen, without a repaint key', async (_, command, ready, image) => {
    const rig = await start();
    writeFileSync(join(rig.cwd, 'numbers.txt'), Array.from({ length: 200 }, (_, i) => `number ${i + 1}`).join('\n'));
    await freezeAndThaw(rig, { command, ready, image, freeze: () => rig.keys('C-e') });
    rig.keys('q');
  });

  it.each([
    ['python3', 'python3 -q', '6*7', /^>>>$/m, '>>> '],
    ['sqlite3', 'sqlite3', 'select 6*7;', /^sqlite>$/m, 'sqlite> '],
  ])('%s: after a thaw the prompt and the lines before it are there; one size for the image everywhere', async (name, command, line, prompt, promptText) => {
    const rig = await start();
    run(rig, 'clear');
    // The command typed only once the shell is back at its prompt: a line typed ahead while
    // `clear` still runs is not marked as a prompt's line, so the screen counts clear's
    // cursor addressing as the job's and a thaw repaints the whole screen (the thaw line
    // then goes to the history).
    await rig.waitFor((s) => s.trimEnd() === 'ck$', 'the screen cleared');
    run(rig, command);
    await rig.waitFor((s) => prompt.test(s), name);
    run(rig, line);
    await rig.waitFor((s) => (s.match(new RegExp(`^${promptText.trim()}`, 'gm')) ?? []).length >= 2, 'the next prompt');
    const before = rig.lines();
    const end = before.length - [...before].reverse().findIndex((l) => l.length > 0);
    const jobLines = before.slice(before.findIndex((l) => l.startsWith(`ck$ ${command}`)) + 1, end);
    rig.keys('C-e');
    await rig.waitFor((s) => /froze \S+\[\d+\] -> .* \(([\d.]+ \w+), /.test(s) && /^ck\$$/m.test(s.trimEnd().split('\n').at(-1) ?? ''), 'the freeze');
    run(rig, `ckpty thaw ${name}.ckpt`);
    await rig.waitFor((s) => s.includes('ckpty: thawed'), 'the thaw');
    await rig.waitFor((s) => s.split('ckpty: thawed')[1]!.split('\n').slice(1).filter((l) => l.trim()).length >= jobLines.length, 'the lines');
    const after = rig.lines();
    const thawAt = after.findIndex((l) => l.startsWith('ckpty: thawed'));
    expect(after.slice(thawAt + 1, thawAt + 1 + jobLines.length)).toEqual(jobLines);
    expect(rig.modes().cursor_x).toBe(String(promptText.length));
    run(rig, line);
    await rig.waitFor((s) => (s.match(/^42$/gm) ?? []).length >= 2, 'the program answering after the thaw');
    rig.keys('C-d');
    await rig.waitFor((s) => /^ck\$$/m.test(s.trimEnd().split('\n').at(-1) ?? ''), 'the program to end');

    const screen = rig.screen();
    const froze = /froze \S+ -> \S+ \(([^,]+), /.exec(screen)![1];
    const thawed = /ckpty: thawed \S+ from \S+ \(([^,]+), /.exec(screen)![1];
    run(rig, `ckpty info ${name}.ckpt | head -1`);
    await rig.waitFor((s) => /^image .*\(ckpty image version \d+, ([^)]+)\)$/m.test(s), 'ckpty info');
    const info = /^image .*\(ckpty image version \d+, ([^)]+)\)$/m.exec(rig.screen())![1];
    const file = formatBytes(statSync(join(rig.cwd, `${name}.ckpt`)).size);
    expect([froze, thawed, info]).toEqual([file, file, file]);
  });
});

describe('plain mode never draws over a program\'s screen', () => {
  // man formats a page of its own (containers often come without man pages). watch shows
  // a command's output once it has ended, and runs it again 0.1 s later: from then on, for
  // 4 s, the job is watch and the command.
  // Both freeze as whole jobs; `ulimit -c 0` opts them out of the key: a refusal.
  it.each([
    ['man', 'ulimit -c 0; man -l page.1', (s: string) => /^PAGE\(1\)/m.test(s), 'q'],
    ['watch', "ulimit -c 0; watch -n 0.1 'echo hi; sleep 4'", (s: string) => /^hi$/m.test(s), 'C-c'],
  ])('a refusal inside %s leaves its screen untouched; the line comes once the normal screen is back', async (_, command, ready, quit) => {
    const rig = await start();
    const lines = Array.from({ length: 80 }, (_, i) => `Line ${i} of a page that is longer than the screen.`).join('\n.br\n');
    writeFileSync(join(rig.cwd, 'page.1'), `.TH PAGE 1\n.SH NAME\npage \\- a test page\n.SH DESCRIPTION\n${lines}\n`);
    run(rig, command);
    await rig.waitFor(ready, command);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const screen = withoutClocks(rig.cells());
    rig.keys('C-e');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(withoutClocks(rig.cells())).toBe(screen);
    expect(rig.modes().alternate_on).toBe('1');
    rig.keys(quit);
    await rig.waitFor((s) => /not frozen: .*core file size limit.* is 0/.test(s.replaceAll('\n', '')), 'the refusal, on the normal screen');
    expect(rig.modes().alternate_on).toBe('0');
  });
});

describe('the full-screen terminal: programs with ISIG off, frozen with ^] f', () => {
  const pane = (screen: string): string => screen.split('\n').slice(0, -2).join('\n');

  it.each([
    ['nano', 'nano notes.txt', (s: string) => s.includes('GNU nano'), 'hello world', 'nano.ckpt'],
    // Vim's empty buffer (lines of ~), not the command line that names the file.
    ['vim.tiny', 'vim.tiny -u NONE notes.txt', (s: string) => /^~/m.test(s), 'ihello world', 'vim.tiny.ckpt'],
    ['vim', 'vim -u NONE notes.txt', (s: string) => /^~/m.test(s), 'ihello world', 'vim.ckpt'],
    // mc without its subshell: with one, the subshell is another job on a pty of mc's (refused by name).
    ['mc -u', 'mc -u', (s: string) => s.includes('1Help') && s.includes('10Quit'), '', 'mc.ckpt'],
  ])('%s: the shell gets its terminal back; after the thaw the same screen', async (_, command, ready, typed, image) => {
    const rig = await start([]);
    await freezeAndThaw(rig, { command, ready, typed, image, freeze: () => rig.keys('C-]', 'f'), pane });
  });

  it("nano's first key after a thaw reaches nano, in a terminal of the same size and of another", async () => {
    const rig = await start([]);
    run(rig, 'nano notes.txt');
    await rig.waitFor((s) => s.includes('GNU nano'), 'nano');
    rig.type('hello');
    await rig.waitFor((s) => /^hello$/m.test(s), 'the text');
    for (const [letter, size] of [['A', undefined], ['B', { cols: 90, rows: 26 }]] as const) {
      rig.keys('C-]', 'f');
      await rig.waitFor((s) => /froze nano\[\d+\]/.test(rig.statusLine()) && PROMPT.test(s), 'the freeze');
      if (size) rig.resize(size.cols, size.rows);
      run(rig, 'clear; ckpty thaw nano.ckpt');
      await rig.waitFor((s) => s.includes('GNU nano') && /thawed nano/.test(rig.statusLine()), 'the thaw');
      rig.type(letter);
      await rig.waitFor((s) => new RegExp(`^hello${letter === 'B' ? 'A' : ''}${letter}$`, 'm').test(s), `${letter} in the text`);
    }
  });
});
