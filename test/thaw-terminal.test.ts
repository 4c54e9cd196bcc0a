/**
 * Thawing in a real terminal, as a user does: a program runs in bash on a pty, it is
 * frozen from outside (`ckpty freeze` would do the same), and `ckpty thaw FILE` typed
 * into that bash brings it back as the foreground job, to be typed into.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freezeProcess } from '../src/freezer/freeze.js';
import { openImage } from '../src/image/file.js';
import { parseSaved } from '../src/termios/stty.js';
import { ECHO, ICANON, ISIG } from '../src/termios/termios.js';
import { buildFixture, childPids, stopProcesses, tempDir } from './helpers/fixtures.js';
import { privateCopy } from './helpers/thaw.js';
import { freezeForeground, startShell, thawInShell as thaw, type Shell } from './helpers/thaw-shell.js';

afterEach(stopProcesses);

/** The processes of a running `ckpty thaw` job: the thawer and the program, its only child. */
async function openRunning(shell: Shell): Promise<{ thawer: number; program: number }> {
  const thawer = await shell.child();
  const kids = childPids(thawer);
  expect(kids).toHaveLength(1);
  return { thawer, program: kids[0] as number };
}

describe('ckpty thaw in a terminal', () => {
  it('a program blocked in a terminal read reads the line typed after the thaw; ^Z, fg and ^C work', async () => {
    const dir = tempDir('ckpty-thaw-tty');
    const shell = await startShell({ cwd: dir });
    shell.type(`${await buildFixture('ttyread')}\r`);
    await shell.waitFor(/ready pid=\d+/);
    shell.type('one\r');
    await shell.waitFor(/got: one/);
    const image = join(dir, 'ttyread.ckpt');
    await freezeForeground(shell, image);

    await thaw(shell, image);
    shell.type('two\r');
    await shell.waitFor(/got: two/);

    shell.mark();
    shell.type('\x1a');
    await shell.waitFor(/Stopped/);
    shell.mark();
    shell.type('fg\r');
    await shell.waitFor(/bin\/ckpty .*\r\n/);
    shell.type('three\r');
    await shell.waitFor(/got: three/);

    shell.mark();
    shell.type('\x03');
    await shell.waitFor(/\$ $/);
    expect(await shell.status()).toBe(130);
  });

  it('a job frozen while stopped (^Z) comes back running; a program that stops itself stops the whole job', async () => {
    const dir = tempDir('ckpty-thaw-tty');
    const shell = await startShell({ cwd: dir });
    shell.type(`${await buildFixture('ttyread')}\r`);
    await shell.waitFor(/ready pid=\d+/);
    const pid = await shell.child();
    shell.type('\x1a');
    await shell.waitFor(/Stopped/);
    const image = join(dir, 'stopped.ckpt');
    await freezeProcess(pid, { output: image });
    expect((await openImage(image)).processes[0]?.process.wasStopped).toBe(true);

    await thaw(shell, image);
    shell.type('one\r');
    await shell.waitFor(/got: one/);
    // As if it had called kill(getpid(), SIGTSTP): the shell must see its job stop.
    shell.mark();
    process.kill((await openRunning(shell)).program, 'SIGTSTP');
    await shell.waitFor(/Stopped/);
    shell.mark();
    shell.type('fg\r');
    await shell.waitFor(/bin\/ckpty .*\r\n/);
    shell.type('two\r');
    await shell.waitFor(/got: two/);
    shell.type('\x04');
    await shell.waitFor(/\$ $/);
    expect(await shell.status()).toBe(0);
  });

  it('bc keeps a variable defined before the freeze', async () => {
    const dir = tempDir('ckpty-thaw-tty');
    const shell = await startShell({ cwd: dir });
    shell.type('bc -q\r');
    await shell.waitingForInput(await shell.child());
    shell.type('x = 6 * 7\r');
    shell.type('x\r');
    await shell.waitFor(/^42\r$/m);
    const image = join(dir, 'bc.ckpt');
    await freezeForeground(shell, image);

    await thaw(shell, image);
    shell.type('x + 1\r');
    await shell.waitFor(/^43\r$/m);
    shell.type('quit\r');
    await shell.waitFor(/\$ $/);
    expect(await shell.status()).toBe(0);
  });

  it('a screen stored with the image is painted again before the program runs', async () => {
    const dir = tempDir('ckpty-thaw-tty');
    const shell = await startShell({ cwd: dir });
    shell.type('bc -q\r');
    await shell.waitingForInput(await shell.child());
    const image = join(dir, 'bc.ckpt');
    const pid = await shell.child();
    shell.mark();
    const screen = Buffer.from('\x1b[H\x1b[2Jthe screen at the freeze\r\n');
    await freezeProcess(pid, { output: image, screen });
    await shell.waitFor(/\$ $/);
    const stored = (await openImage(image)).screen;
    expect(stored && Buffer.from(stored)).toEqual(screen);

    await thaw(shell, image);
    await shell.waitFor(/the screen at the freeze\r+\n/);
    shell.type('2 + 2\r');
    await shell.waitFor(/^4\r$/m);
    shell.type('quit\r');
    await shell.waitFor(/\$ $/);
  });

  it('a freeze gives the shell back a terminal that echoes and edits lines, though bc had turned that off', async () => {
    const dir = tempDir('ckpty-thaw-tty');
    const shell = await startShell({ cwd: dir });
    shell.type('bc -q\r');
    const bc = await shell.child();
    await shell.waitingForInput(bc);
    // What bc set, read through its own descriptor by the real stty.
    const bcModes = parseSaved(execFileSync('stty', ['-g', '-F', `/proc/${bc}/fd/0`], { encoding: 'latin1' }).trim());
    expect(bcModes && bcModes.lflag & (ICANON | ECHO)).toBe(0);
    await freezeForeground(shell, join(dir, 'bc.ckpt'));

    const after = parseSaved(await shell.modes());
    expect(after && after.lflag & (ICANON | ECHO | ISIG)).toBe(ICANON | ECHO | ISIG);
    // The image keeps bc's own modes for the thaw.
    expect((await openImage(join(dir, 'bc.ckpt'))).processes[0]?.tty?.termios.lflag).toBe(bcModes?.lflag);
  });

  it('python3 keeps a variable, and its exit status becomes the command\'s', async () => {
    const dir = tempDir('ckpty-thaw-tty');
    const shell = await startShell({ cwd: dir });
    shell.type('python3 -q\r');
    await shell.waitFor(/>>> $/);
    shell.mark();
    shell.type('word = "thawed" * 2\r');
    await shell.waitFor(/>>> $/);
    const image = join(dir, 'python3.ckpt');
    await freezeForeground(shell, image);

    await thaw(shell, image);
    shell.type('print(word.upper(), len(word))\r');
    await shell.waitFor(/THAWEDTHAWED 12/);
    shell.type('raise SystemExit(7)\r');
    await shell.waitFor(/\$ $/);
    expect(await shell.status()).toBe(7);
  });

  it('a shell while loop goes on counting', async () => {
    const dir = tempDir('ckpty-thaw-tty');
    const shell = await startShell({ cwd: dir });
    shell.type(`sh -c 'n=0; while read line; do n=$((n + 1)); echo "n=$n:$line"; done'\r`);
    await shell.waitingForInput(await shell.child());
    shell.type('a\r');
    await shell.waitFor(/n=1:a/);
    shell.type('b\r');
    await shell.waitFor(/n=2:b/);
    const image = join(dir, 'sh.ckpt');
    await freezeForeground(shell, image);

    await thaw(shell, image);
    shell.type('c\r');
    await shell.waitFor(/n=3:c/);
    shell.type('\x04');
    await shell.waitFor(/\$ $/);
    expect(await shell.status()).toBe(0);
  });

  it('a raw-mode program gets raw mode back: ^C arrives as a byte', async () => {
    const dir = tempDir('ckpty-thaw-tty');
    const shell = await startShell({ cwd: dir });
    const cooked = await shell.modes();
    shell.type(`${await buildFixture('thaw-raw')}\r`);
    await shell.waitFor(/ready pid=\d+/);
    shell.type('a');
    await shell.waitFor(/key=0x61/);
    const image = join(dir, 'raw.ckpt');
    await freezeForeground(shell, image);

    // Cooked again before the thaw: the raw mode must come from the image.
    await thaw(shell, image, 'stty sane; ');
    shell.type('\x03');
    await shell.waitFor(/key=0x03/);
    shell.type('b');
    await shell.waitFor(/key=0x62/);
    shell.type('q');
    await shell.waitFor(/\$ $/);
    expect(await shell.status()).toBe(0);
    // It put back the modes it had saved in its memory before the freeze.
    expect(await shell.modes()).toBe(cooked);
  });

  it('a refusal leaves the terminal modes as they were', async () => {
    const dir = tempDir('ckpty-thaw-tty');
    const binary = privateCopy(await buildFixture('counter'), dir, 'counter');
    const shell = await startShell({ cwd: dir });
    shell.type(`${binary} 1000 >out 2>&1 </dev/null & echo "bg=$!."\r`);
    const pid = Number((await shell.waitFor(/bg=(\d+)\./))[1]);
    const image = (await freezeProcess(pid, { output: join(dir, 'counter.ckpt') })).path;
    appendFileSync(binary, '\0');
    shell.type('stty -echo -icanon min 1\r');
    const before = await shell.modes();
    shell.mark();
    shell.type(`ckpty thaw ${image}\r`);
    await shell.waitFor(/ckpty: cannot thaw .* changed since the freeze/);
    expect(await shell.status()).toBe(7);
    expect(await shell.modes()).toBe(before);
  });
});
