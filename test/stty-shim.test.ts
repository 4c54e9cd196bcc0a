/**
 * `stty` inside a ckpty session (tty/stty and src/host/stty-shim.ts), typed at a bash
 * prompt in a real session. GNU stty on the same terminal is the oracle for everything
 * but ckpt; outside a session the shim must be indistinguishable from it.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { startShellSession, stopSessions, TestTerminal, testEnvironment, PROMPT, type TestTerminal as Terminal } from './helpers/host.js';

const SHIM = join(ROOT, 'tty/stty');
/**
 * The system's stty with these arguments, found through PATH so that its messages say
 * `stty`; in a subshell, so that the session's bash does not remember that stty.
 */
const systemStty = (args: string): string => `(PATH=/usr/bin:/bin; stty ${args})`;

afterEach(stopSessions);

/** The words of stty's output, whatever the line breaks: the layout-free content. */
function words(text: string): string[] {
  return text.split(/\s+/).filter((word) => word !== '');
}

function withoutCkpt(text: string): string[] {
  return words(text.replace(/ckpt = [^;]*;/, ''));
}

async function session(): Promise<Terminal> {
  return startShellSession({ cwd: tempDir('ckpty-stty') });
}

describe('stty inside a session', () => {
  it('shows ckpt among the cchars of -a, in GNU layout, and otherwise what GNU shows', async () => {
    const term = await session();
    const gnu = await term.run(systemStty('-a'));
    const ours = await term.run('stty -a');
    expect(ours).toContain('lnext = ^V; discard = ^O; ckpt = ^E; min = 1; time = 0;');
    expect(withoutCkpt(ours)).toEqual(words(gnu));
    for (const line of ours.split('\n')) expect(line.length).toBeLessThanOrEqual(81);

    await term.run('stty ckpt ^T');
    expect(await term.run('stty -a')).toContain('ckpt = ^T;');
    // Through a pipe GNU wraps at $COLUMNS; the shim wraps the same.
    const narrowGnu = await term.run('(PATH=/usr/bin:/bin; COLUMNS=40 stty -a) | cat');
    const narrow = await term.run('COLUMNS=40 stty -a | cat');
    expect(withoutCkpt(narrow)).toEqual(words(narrowGnu));
    expect(Math.max(...narrow.split('\n').map((line) => line.length))).toBeLessThanOrEqual(41);
  });

  it('plain stty shows ckpt only when it differs from ^E', async () => {
    const term = await session();
    expect(await term.run('stty')).toEqual(await term.run(systemStty('')));
    await term.run('stty ckpt undef');
    expect(await term.run('stty')).toContain('ckpt = <undef>;');
  });

  it('round trips -g, ckpt included', async () => {
    const term = await session();
    const saved = (await term.run('s=$(stty -g); echo "$s"')).trim();
    expect(saved).toMatch(/^[0-9a-f]+(:[0-9a-f]+){35}:ckpt=5$/);
    expect(saved.replace(/:ckpt=5$/, '')).toEqual((await term.run(systemStty('-g'))).trim());
    await term.run('stty ckpt ^X -echo');
    expect(await term.run('stty -g')).toContain(':ckpt=18');
    await term.run('stty "$s"');
    expect((await term.run('stty -g')).trim()).toEqual(saved);
  });

  it('resets ckpt with sane, and mixes ckpt with other words', async () => {
    const term = await session();
    await term.run('stty -echo ckpt ^X');
    let all = await term.run('stty -a');
    expect(all).toContain('ckpt = ^X;');
    expect(words(all)).toContain('-echo');
    await term.run('stty sane');
    all = await term.run('stty -a');
    expect(all).toContain('ckpt = ^E;');
    expect(words(all)).toContain('echo');
  });

  it('reports errors as GNU does, and a bad word changes nothing', async () => {
    const term = await session();
    // GNU's wording for the same mistakes with another cchar.
    const gnuMissing = await term.run(`${systemStty('intr')}; echo rc=$?`);
    expect(await term.run('stty ckpt; echo rc=$?')).toEqual(gnuMissing.replaceAll('intr', 'ckpt'));
    const gnuRange = await term.run(`${systemStty('-echo intr 300')}; echo rc=$?`);
    expect(await term.run('stty -echo ckpt 300; echo rc=$?')).toEqual(gnuRange);
    const gnuUnknown = await term.run(`${systemStty('intr ^T foo')}; echo rc=$?`);
    expect(await term.run('stty ckpt ^T foo; echo rc=$?')).toEqual(gnuUnknown);
    const all = await term.run('stty -a');
    expect(all).toContain('ckpt = ^E;');
    expect(words(all)).toContain('echo');
  });

  it('names other terminals as the system stty does, and knows /dev/tty is this one', async () => {
    const term = await session();
    expect(await term.run('stty -F /dev/tty -a')).toContain('ckpt = ^E;');
    expect(await term.run('stty -a < /dev/tty')).toContain('ckpt = ^E;');
    expect(await term.run('stty -a < /dev/null; echo rc=$?')).toEqual(await term.run(`${systemStty('-a < /dev/null')}; echo rc=$?`));
  });

  it('runs the system stty directly for words that do not concern ckpt', async () => {
    const term = await session();
    // With no usable Node, only what needs the host fails.
    expect(await term.run('CKPTY_NODE=/bin/false stty -echo; echo rc=$?; stty echo')).toContain('rc=0');
    expect(await term.run('CKPTY_NODE=/bin/false stty ckpt ^T; echo rc=$?')).toContain('rc=1');
  });
});

describe('stty outside a session', () => {
  it('is the system stty: same output, errors and status', async () => {
    const cwd = tempDir('ckpty-stty');
    const env = testEnvironment(cwd);
    const term = new TestTerminal('bash', ['--norc', '--noprofile'], { cwd, env });
    try {
      await term.waitFor(new RegExp(`${PROMPT.replace('$', '\\$')}$`));
      for (const args of ['-a', '-g', '', 'foo', 'ckpt ^T', '-echo intr 300', 'sane']) {
        const shim = await term.run(`${SHIM} ${args}; echo rc=$?`);
        const system = await term.run(`${systemStty(args)}; echo rc=$?`);
        expect(shim).toEqual(system);
      }
    } finally {
      term.kill();
    }
  });
});
