/**
 * The largest image the format allows: e_phnum is 16 bits and 0xffff means PN_XNUM (the
 * count would be in a section header, which ckpty images do not have), so an image
 * holds at most 0xfffe program headers. A process with more runs of pages than that
 * has its runs joined across the smallest gaps until they fit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freezeProcess } from '../src/freezer/freeze.js';
import { openImage } from '../src/image/file.js';
import { ELF64_EHDR } from '../src/image/format.js';
import { buildFixture, startProcess, stopProcesses, tempDir } from './helpers/fixtures.js';
import { CLI } from './helpers/thaw.js';
import { spawnSync } from 'node:child_process';

afterEach(stopProcesses);

describe('the number of program headers', () => {
  it('a process with 70000 runs of pages gives an image of exactly 0xfffe program headers, which both readers accept', async () => {
    const dir = tempDir('ckpty-limits');
    const program = startProcess(await buildFixture('sparse'), ['140000'], { cwd: dir });
    await program.waitFor(/ready pid=\d+/, 30_000);
    const { path } = await freezeProcess(program.pid, { output: join(dir, 'sparse.ckpt'), snapshot: true });
    const phnum = readFileSync(path).readUInt16LE(ELF64_EHDR.fields.e_phnum.offset);
    expect(phnum).toBe(0xfffe);
    expect((await openImage(path)).loads).toHaveLength(0xfffe - 1);
    const check = spawnSync(CLI, ['thaw', '--check', path], { encoding: 'utf8' });
    expect(check.stderr).toBe(`ckpty: ${path} can be thawed here\n`);
    expect(check.status).toBe(0);
  }, 120_000);
});
