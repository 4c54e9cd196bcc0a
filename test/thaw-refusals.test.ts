/**
 * Images that must not be thawed: refused with one message naming the cause and the
 * documented exit status, with nothing left running (the terminal's modes are checked
 * in thaw-terminal.test.ts).
 * And a thaw by an unprivileged user, of their own process.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, closeSync, existsSync, openSync, readFileSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/base/errors.js';
import { freezeProcess } from '../src/freezer/freeze.js';
import { openImage } from '../src/image/file.js';
import { CKPT_PROCESS, Elf, ELF64_EHDR, ELF64_PHDR, type StructLayout } from '../src/image/format.js';
import { THAWER_PATH } from '../src/thawer/native.js';
import { buildFixture, cliRootFor, startProcess, stopProcesses, tempDir, testUser, until, type TestProcess } from './helpers/fixtures.js';
import { privateCopy, processesRunning, startThaw, stopThaws, thawRefused } from './helpers/thaw.js';

afterEach(() => {
  stopThaws();
  stopProcesses();
});

interface Frozen {
  dir: string;
  /** The program's own copy of its binary: whatever runs it came from this test. */
  binary: string;
  image: string;
  proc: TestProcess;
}

/** A private copy of a fixture, run in a fresh directory, frozen there. */
async function frozenCopy(fixture: string, args: (dir: string) => string[] = () => []): Promise<Frozen> {
  const dir = tempDir('ckpty-thaw-refused');
  const binary = privateCopy(await buildFixture(fixture), dir, fixture);
  const proc = startProcess(binary, args(dir), { cwd: dir });
  await proc.waitFor(/ready pid=\d+/);
  const { path } = await freezeProcess(proc.pid, { output: join(dir, `${fixture}.ckpt`) });
  await proc.exited;
  return { dir, binary, image: path, proc };
}

/** Overwrite bytes of a file in place. */
function patch(path: string, offset: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}

function u64(value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return b;
}

function fieldOffset(layout: StructLayout, name: string): number {
  const field = layout.fields[name];
  if (!field) throw new Error(`no field ${name} in ${layout.cType}`);
  return field.offset;
}

/** The file offset of a ckpty note's descriptor. */
async function noteOffset(image: string, name: string): Promise<number> {
  const note = (await openImage(image)).processes[0]?.notes.find((n) => n.name === name);
  if (!note) throw new Error(`${image} has no ${name}`);
  return note.offset;
}

async function expectRefused(frozen: Frozen, exitCode: number, message: RegExp): Promise<void> {
  const end = await thawRefused(frozen.image);
  expect(end.stderr).toMatch(message);
  expect(end.stderr.trim().split('\n')).toHaveLength(1);
  expect(end.code).toBe(exitCode);
  expect(processesRunning(frozen.binary)).toEqual([]);
}

describe('refused images', () => {
  it('a truncated image', async () => {
    const frozen = await frozenCopy('counter');
    truncateSync(frozen.image, Math.floor(readFileSync(frozen.image).length * 0.6));
    await expectRefused(frozen, ExitCode.badImage, /^ckpty: .*counter\.ckpt: truncated image/);
  });

  it('an image for another machine, of another version, or with malformed structures', async () => {
    const frozen = await frozenCopy('counter');
    const pristine = readFileSync(frozen.image);
    const restore = (): void => {
      const fd = openSync(frozen.image, 'w');
      writeSync(fd, pristine);
      closeSync(fd);
    };
    patch(frozen.image, fieldOffset(ELF64_EHDR, 'e_machine'), Buffer.from([3, 0]));
    await expectRefused(frozen, ExitCode.badImage, /not x86_64/);
    restore();
    patch(frozen.image, await noteOffset(frozen.image, 'NT_CKPT_PROCESS'), Buffer.from([99, 0, 0, 0]));
    await expectRefused(frozen, ExitCode.badImage, /version 99/);
    restore();
    // The first mapping made to start off a page boundary.
    const vmas = await noteOffset(frozen.image, 'NT_CKPT_VMAS');
    patch(frozen.image, vmas, u64(pristine.readBigUInt64LE(vmas) + 1n));
    await expectRefused(frozen, ExitCode.badImage, /image/);
    restore();
    // The first stored run pointed past the end of the file.
    const load = ELF64_EHDR.size + ELF64_PHDR.size;
    expect(pristine.readUInt32LE(load)).toBe(Elf.PT_LOAD);
    patch(frozen.image, load + fieldOffset(ELF64_PHDR, 'p_offset'), u64(BigInt(pristine.length + 4096)));
    await expectRefused(frozen, ExitCode.badImage, /image/);
  });

  it('an image made on another kernel (its vdso differs)', async () => {
    const frozen = await frozenCopy('counter');
    const at = (await noteOffset(frozen.image, 'NT_CKPT_PROCESS')) + fieldOffset(CKPT_PROCESS, 'vdso_hash');
    patch(frozen.image, at, u64(readFileSync(frozen.image).readBigUInt64LE(at) ^ 1n));
    await expectRefused(frozen, ExitCode.unsupported, /made on another kernel .*\(frozen on Linux \S+, this is Linux \S+\)/);
  });

  it('an image that is not the caller\'s, or that others may write', async () => {
    const frozen = await frozenCopy('counter');
    chmodSync(frozen.image, 0o620);
    await expectRefused(frozen, ExitCode.permission, /refusing to thaw .*writable by its group/);
    chmodSync(frozen.image, 0o600);
    const user = testUser();
    chownSync(frozen.image, user.uid, user.gid);
    await expectRefused(frozen, ExitCode.permission, new RegExp(`refusing to thaw .*owned by uid ${user.uid}, not by uid 0`));
  });

  it('a missing image', async () => {
    const end = await thawRefused('/nonexistent/x.ckpt');
    expect(end.code).toBe(ExitCode.notFound);
    expect(end.stderr).toMatch(/^ckpty: \/nonexistent\/x\.ckpt: no such file$/m);
  });

  it('a changed executable is named', async () => {
    const frozen = await frozenCopy('counter');
    appendFileSync(frozen.binary, '\0');
    await expectRefused(frozen, ExitCode.changed, new RegExp(`cannot thaw .*: ${frozen.binary} changed since the freeze \\(size, mtime, ctime\\)`));
  });

  it('a deleted mapped file is named', async () => {
    const frozen = await frozenCopy('memory', (dir) => ['file', '1', join(dir, 'backing')]);
    unlinkSync(join(frozen.dir, 'backing'));
    await expectRefused(frozen, ExitCode.changed, /backing no longer exists/);
  });

  it('a deleted file the program had open is named with its fd', async () => {
    const frozen = await frozenCopy('openfile', (dir) => [join(dir, 'data'), '10']);
    unlinkSync(join(frozen.dir, 'data'));
    await expectRefused(frozen, ExitCode.changed, /data \(open as fd 3\) no longer exists/);
  });

  it('the native thawer alone refuses what the command refuses', async () => {
    const frozen = await frozenCopy('counter');
    appendFileSync(frozen.binary, '\0');
    const result = spawnSync(THAWER_PATH, [frozen.image], { encoding: 'utf8' });
    expect(result.status).toBe(ExitCode.changed);
    expect(result.stderr).toBe(`ckpty: cannot thaw ${frozen.image}: ${frozen.binary} changed since the freeze (size, mtime, ctime)\n`);
    truncateSync(frozen.image, 100);
    expect(spawnSync(THAWER_PATH, [frozen.image]).status).toBe(ExitCode.badImage);
    expect(processesRunning(frozen.binary)).toEqual([]);
  });

  it('freezes and thaws their own counter', async () => {
    const user = testUser();
    const dir = tempDir('ckpty-thaw-user', user);
    const cli = join(cliRootFor(user), 'bin/ckpty');
    // Its output goes to a file of the user's own, which the thaw opens again as the user.
    const output = join(dir, 'output');
    const counter = startProcess('/bin/sh', ['-c', `exec ${await buildFixture('counter')} 20 >${output} 2>&1`], { user, cwd: dir });
    const counted = (): number => [...readFileSync(output, 'latin1').matchAll(/count (\d+)\n/g)].length;
    await until(() => existsSync(output) && counted() >= 3, 5000, 'the counter to count');
    const image = join(dir, 'counter.ckpt');
    const freeze = spawnSync(cli, ['freeze', String(counter.pid), '-o', image], { uid: user.uid, gid: user.gid, encoding: 'utf8' });
    expect(freeze.stderr).toBe('');
    await counter.exited;
    const last = counted();

    const run = startThaw(image, { user, cli });
    const { pid: own, outerPid: pid, ids } = await run.result;
    // Not root: in a pid namespace of its own, under its own pid there.
    expect({ own, ids }).toEqual({ own: counter.pid, ids: 'namespace' });
    await until(() => counted() >= last + 2, 5000, 'the thawed counter to count');
    expect(readFileSync(output, 'latin1')).toContain(`count ${last + 1}\n`);
    expect(readFileSync(`/proc/${pid}/status`, 'latin1')).toMatch(new RegExp(`Uid:\\s+${user.uid}\\s`));
    expect(readFileSync(`/proc/${pid}/comm`, 'latin1')).toBe('counter\n');
  });
});
