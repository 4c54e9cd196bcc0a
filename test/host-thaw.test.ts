/**
 * Freeze with the key, thaw with `ckpty thaw`, in the same session, as a user would:
 * the counter goes on from where it stopped, bc and python3 keep their variables, and a
 * thawed job can be frozen again with the key (the thaw's own processes are skipped).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture, tempDir } from './helpers/fixtures.js';
import { CKPTY, startShellSession, stopSessionsAndProcesses, type TestTerminal } from './helpers/host.js';

const CTRL_E = '\x05';
const THAW = `${CKPTY} thaw`;

let counter: string;
beforeAll(async () => {
  counter = await buildFixture('counter');
});
afterEach(stopSessionsAndProcesses);

function counts(text: string): number[] {
  return [...text.matchAll(/count (\d+)\r\n/g)].map((match) => Number(match[1]));
}

/** Press the key and wait for the prompt after the status line. */
async function freeze(term: TestTerminal, name: string): Promise<void> {
  const mark = term.mark();
  term.type(CTRL_E);
  await term.waitFor(new RegExp(`ckpt: froze ${name}\\[\\d+\\] -> .*\\r\\n`), { after: mark });
  await term.prompt(mark);
}

describe('freeze with the key, thaw with ckpty thaw', () => {
  it('continues a counter from where it stopped, and freezes the thawed job again', async () => {
    const dir = tempDir('ckpty-host-thaw');
    const term = await startShellSession({ cwd: dir, cols: 160 });
    let mark = term.mark();
    term.type(`${counter} 50\r`);
    await term.waitFor(/count 3\r\n/, { after: mark });
    await freeze(term, 'counter');
    const frozenAt = counts(term.since(mark)).at(-1)!;

    mark = term.mark();
    term.type(`${THAW} counter.ckpt\r`);
    await term.waitFor(new RegExp(`count ${frozenAt + 3}\\r\\n`), { after: mark });
    // Straight on: no count lost, none repeated.
    expect(counts(term.since(mark)).slice(0, 3)).toEqual([frozenAt + 1, frozenAt + 2, frozenAt + 3]);

    await freeze(term, 'counter');
    const refrozenAt = counts(term.since(mark)).at(-1)!;
    expect(await term.run('echo status=$?')).toContain('status=161');
    mark = term.mark();
    term.type(`${THAW} counter.ckpt\r`);
    await term.waitFor(new RegExp(`count ${refrozenAt + 2}\\r\\n`), { after: mark });
    expect(counts(term.since(mark))[0]).toBe(refrozenAt + 1);
    term.type('\x03');
    await term.prompt(mark);
  });

  it('keeps a bc variable', async () => {
    const dir = tempDir('ckpty-host-thaw');
    const term = await startShellSession({ cwd: dir });
    let mark = term.mark();
    term.type('bc -q\r');
    term.type('x = 6 * 7\r');
    term.type('x + 1\r');
    await term.waitFor(/\r43\r\n/, { after: mark });
    await freeze(term, 'bc');
    expect(existsSync(join(dir, 'bc.ckpt'))).toBe(true);
    mark = term.mark();
    term.type(`${THAW} bc.ckpt\r`);
    await term.waitFor(/thawed bc/, { after: mark });
    term.type('x * 2\r');
    await term.waitFor(/\r84\r\n/, { after: mark });
    term.type('quit\r');
    await term.prompt(mark);
    expect(await term.run('echo status=$?')).toContain('status=0');
  });

  it('keeps a python3 variable', async () => {
    const dir = tempDir('ckpty-host-thaw');
    const term = await startShellSession({ cwd: dir });
    let mark = term.mark();
    term.type('python3 -q\r');
    await term.waitFor(/>>> $/, { after: mark });
    term.type('v = [n * n for n in range(10)]\r');
    await term.waitFor(/>>> $/, { after: term.mark() });
    await freeze(term, 'python3');
    mark = term.mark();
    term.type(`${THAW} python3.ckpt\r`);
    await term.waitFor(/thawed python3/, { after: mark });
    term.type('print(sum(v))\r');
    await term.waitFor(/\r\n285\r\n/, { after: mark });
    term.type('exit()\r');
    await term.prompt(mark);
  });
});
