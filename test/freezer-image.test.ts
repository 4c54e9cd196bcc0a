/**
 * What a freeze writes, checked without ckpty's own reader: readelf and gdb read the
 * image, its stored pages equal the live memory read through /proc/PID/mem, and the
 * ckpty notes hold what the fixtures report about themselves.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freezeProcess } from '../src/freezer/freeze.js';
import { FROZEN_EXIT_STATUS } from '../src/base/errors.js';
import { ELF64_EHDR, Elf } from '../src/image/format.js';
import { CLI } from './helpers/thaw.js';
import { SYS_clock_nanosleep, SYS_pause, SYS_read, buildFixture, startOnPty, startProcess, stopProcesses, syscallOf, tempDir, until } from './helpers/fixtures.js';
import { fds, NT, objectBytes, processNote, readCore, sigactions, signalState, storedBytes, vmas } from './helpers/core-file.js';
import { gdb, kernelCore, liveBytes, readelf, readLiveMemory, readLiveXstate } from './helpers/freezer.js';

afterEach(stopProcesses);
const PAGE = 4096;

describe('the image of sleep', () => {
  it('is an ELF core that readelf lists with every standard and ckpty note', async () => {
    const dir = tempDir('ckpty-freeze');
    const sleep = startProcess('/usr/bin/sleep', ['1000'], { cwd: dir });
    await until(() => syscallOf(sleep.pid) === SYS_clock_nanosleep);
    const result = await freezeProcess(sleep.pid, { snapshot: true });

    expect(result.path).toBe(join(dir, 'sleep.ckpt'));
    expect(statSync(result.path).mode & 0o777).toBe(0o600);
    expect(statSync(result.path).size).toBe(result.bytes);
    const listing = readelf(result.path);
    expect(listing).toContain('CORE (Core file)');
    for (const name of ['NT_PRSTATUS', 'NT_PRPSINFO', 'NT_SIGINFO', 'NT_AUXV', 'NT_FILE', 'NT_FPREGSET', 'NT_X86_XSTATE']) {
      expect(listing).toContain(name);
    }
    for (let type = 0x434b0001; type <= 0x434b0007; type++) expect(listing).toContain(`(0x${type.toString(16)})`);
    const loads = [...listing.matchAll(/^\s+LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+)/gm)];
    expect(loads.length).toBeGreaterThan(3);
    for (const [, offset, vaddr, filesz, memsz] of loads) {
      expect(parseInt(offset ?? '', 16) % PAGE).toBe(0);
      expect(parseInt(vaddr ?? '', 16) % PAGE).toBe(0);
      expect(filesz).toBe(memsz);
    }
    // A snapshot leaves it sleeping.
    expect(sleep.state()).toBe('S');
  });

  it('names its mapped files in NT_FILE and is stopped at its syscall for gdb', async () => {
    const dir = tempDir('ckpty-freeze');
    const sleep = startProcess('/usr/bin/sleep', ['1000'], { cwd: dir });
    await until(() => syscallOf(sleep.pid) === SYS_clock_nanosleep);
    const { path } = await freezeProcess(sleep.pid, { snapshot: true });
    const out = gdb(path, '/usr/bin/sleep', ['info proc mappings', 'x/2bx $pc', 'p $rax', 'bt']);
    expect(out).toMatch(/0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+\/usr\/bin\/sleep/);
    expect(out).toMatch(/libc\.so\.6/);
    // Rewound onto the `syscall` instruction, rax holding the syscall number (clock_nanosleep).
    expect(out).toMatch(/:\s+0x0f\s+0x05/);
    expect(out).toMatch(/\$1 = 230/);
    expect(out).toMatch(/#0 .*nanosleep/);
    expect(processNote(readCore(path)).restart).toBe(2);
  });
});

describe('the process facts', () => {
  it('records argv, exe, cwd, ids, umask, limits, mm fields and rseq as /proc shows them', async () => {
    const binary = await buildFixture('counter');
    const dir = tempDir('ckpty-freeze');
    const proc = startProcess(binary, ['1000'], { cwd: dir });
    await proc.waitFor(/ready/);
    await until(() => syscallOf(proc.pid) === SYS_clock_nanosleep);
    const limits = readFileSync(`/proc/${proc.pid}/limits`, 'latin1').split('\n').slice(1, 17);
    const stat = readFileSync(`/proc/${proc.pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map((f) => Number(f));
    const field = (n: number): number => fields[n - 3] ?? NaN;
    const { path } = await freezeProcess(proc.pid, { snapshot: true });
    const core = readCore(path);
    const facts = processNote(core);

    expect(facts).toMatchObject({ version: 2, pid: proc.pid, uid: 0, comm: 'counter', exe: binary, cwd: dir, flags: 1 });
    expect(core.note('CKPTY', NT.CKPT_ARGV)?.toString('latin1')).toBe(`${binary}\u00001000\u0000`);
    expect(facts.umask).toBe(parseInt(/Umask:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'latin1'))?.[1] ?? '', 8));
    limits.forEach((line, r) => {
      const [soft, hard] = [line.slice(26, 46).trim(), line.slice(47, 67).trim()].map((v) => (v === 'unlimited' ? -1n : BigInt(v)));
      expect(facts.rlimits[r], line).toEqual([soft, hard]);
    });
    // start_code, end_code, start_data, end_data, start_brk, (brk), start_stack, arg/env ranges.
    expect(facts.mm).toEqual([field(26), field(27), field(45), field(46), field(47), facts.mm[5], field(28), field(48), field(49), field(50), field(51)]);
    expect(facts.mm[5]).toBeGreaterThanOrEqual(field(47));
    // glibc registers rseq at start-up with this signature.
    expect(facts.rseq.addr).not.toBe(0n);
    expect(facts.rseq.sig).toBe(0x53053053);
  });
});

describe('a program blocked in a terminal read', () => {
  it('ends with status 161; gdb shows the function it waits in; the read is rewound', async () => {
    const binary = await buildFixture('ttyread');
    const dir = tempDir('ckpty-freeze');
    const proc = startOnPty(binary, [], { cwd: dir });
    await proc.waitFor(/ready pid=\d+/);
    await until(() => syscallOf(proc.pid) === SYS_read);
    const result = await freezeProcess(proc.pid);

    expect((await proc.exited).code).toBe(FROZEN_EXIT_STATUS);
    expect(result.exitStatus).toBe(FROZEN_EXIT_STATUS);
    const out = gdb(result.path, binary, ['bt', 'p $rax', 'x/2bx $pc']);
    expect(out).toMatch(/#\d+ .*wait_for_line \(\) at .*ttyread\.c/);
    expect(out).toMatch(/#\d+ .*main \(\) at .*ttyread\.c/);
    expect(out).toMatch(/\$1 = 0\b/); // read
    expect(out).toMatch(/:\s+0x0f\s+0x05/);
    const core = readCore(result.path);
    expect(processNote(core).restart).toBe(1);
    const tty = core.note('CKPTY', NT.CKPT_TTY);
    expect(tty).toBeDefined();
    // struct ckpt_tty: rows and cols at bytes 44 and 46.
    expect([tty?.readUInt16LE(44), tty?.readUInt16LE(46)]).toEqual([24, 80]);
    expect(fds(core).filter((f) => f.fd <= 2).map((f) => f.kind)).toEqual([2, 2, 2]);
  });
});

describe('stored memory', () => {
  const MIB = 2;
  const pattern = (offset: number): bigint => (BigInt(offset) * 0x9e3779b97f4a7c15n + 1n) & 0xffffffffffffffffn;

  it.each(['anon', 'heap', 'file', 'shared'])('holds every written %s page as the process sees it', async (kind) => {
    const binary = await buildFixture('memory');
    const dir = tempDir('ckpty-freeze');
    const proc = startProcess(binary, [kind, String(MIB), join(dir, 'backing')], { cwd: dir });
    const [, addrText] = await proc.waitFor(/ready pid=\d+ addr=0x([0-9a-f]+)/);
    // Idle in pause(), not still writing its ready line: its memory does not change any more.
    await until(() => syscallOf(proc.pid) === SYS_pause);
    const live = readLiveMemory(proc.pid);
    const result = await freezeProcess(proc.pid, { snapshot: true });
    const core = readCore(result.path);

    // Every stored page is the live page, but for the rseq area: the kernel rewrites its cpu
    // fields whenever the task resumes on a CPU, and the freezer's injected syscalls resume it.
    const rseq = processNote(core).rseq;
    const masked = (bytes: Buffer, vaddr: number): Buffer => {
      const copy = Buffer.from(bytes);
      const from = Number(rseq.addr) - vaddr;
      if (from + rseq.len > 0 && from < copy.length) copy.fill(0, Math.max(from, 0), Math.min(from + rseq.len, copy.length));
      return copy;
    };
    for (const load of core.loads) {
      const expected = liveBytes(live, load.vaddr, load.filesz);
      if (!expected) continue; // unreadable in /proc/PID/mem terms (e.g. PROT_NONE): nothing to compare
      const stored = core.bytes.subarray(load.offset, load.offset + load.filesz);
      expect(masked(stored, load.vaddr).equals(masked(expected, load.vaddr)), `PT_LOAD at 0x${load.vaddr.toString(16)}`).toBe(true);
    }
    // The pattern is there in full.
    const addr = parseInt(addrText ?? '', 16);
    // Shared memory is a job object, stored once in the data area for every process that maps it.
    const stored = kind === 'shared' ? objectBytes(core, addr, MIB << 20) : storedBytes(core, addr, MIB << 20);
    expect(stored, 'pattern region stored').toBeDefined();
    for (let offset = 0; offset < MIB << 20; offset += 4096 + 8) {
      expect(stored?.readBigUInt64LE(offset)).toBe(pattern(offset));
    }
    expect(result.storedBytes).toBeGreaterThanOrEqual(MIB << 20);
    // The process runs on, its memory intact.
    proc.kill('SIGUSR1');
    await proc.waitFor(/verify ok/);
  });

  it('joins just enough runs across gaps when a sparse mapping would need more than 0xfffe program headers', async () => {
    const binary = await buildFixture('memory');
    const dir = tempDir('ckpty-freeze');
    const mib = 600; // every other page written: 76800 runs
    const proc = startProcess(binary, ['sparse', String(mib)], { cwd: dir });
    const [, addrText] = await proc.waitFor(/ready pid=\d+ addr=0x([0-9a-f]+)/, 20_000);
    const result = await freezeProcess(proc.pid, { snapshot: true });
    const core = readCore(result.path);
    // e_phnum is 16 bits and 0xffff means PN_XNUM: 0xfffe headers, one of them the PT_NOTE.
    expect(readFileSync(result.path).readUInt16LE(ELF64_EHDR.fields.e_phnum.offset)).toBe(0xfffe);
    expect(core.segments.filter((segment) => segment.type === Elf.PT_LOAD)).toHaveLength(0xfffe - 1);
    const addr = parseInt(addrText ?? '', 16);
    // Written pages are stored with their data; a joined gap reads as zeros, the others are not stored.
    for (const page of [0, 2, 1000, 76800, 153598]) {
      expect(storedBytes(core, addr + page * PAGE, 8)?.readBigUInt64LE(0), `page ${page}`).toBe(pattern(page * PAGE));
    }
    let joined = 0;
    for (let page = 1; page < 153600; page += 2) {
      const gap = storedBytes(core, addr + page * PAGE, PAGE);
      if (gap === undefined) continue;
      expect(gap.equals(Buffer.alloc(PAGE)), `page ${page}`).toBe(true);
      joined++;
    }
    // Only as many joins as needed: every other run of the process is still its own PT_LOAD.
    expect(joined).toBeGreaterThan(76800 - 0xfffe);
    expect(joined).toBeLessThan(76800 - 0xfffe + 64);
    expect(spawnSync(CLI, ['thaw', '--check', result.path], { encoding: 'utf8' }).status).toBe(0);
    proc.kill('SIGUSR1');
    await proc.waitFor(/verify ok/);
  });

  it('does not store a shared file mapping (the file holds it)', async () => {
    const binary = await buildFixture('memory');
    const dir = tempDir('ckpty-freeze');
    const proc = startProcess(binary, ['shared-file', '8', join(dir, 'backing')], { cwd: dir });
    const [, addrText] = await proc.waitFor(/ready pid=\d+ addr=0x([0-9a-f]+)/);
    const result = await freezeProcess(proc.pid, { snapshot: true });
    expect(storedBytes(readCore(result.path), parseInt(addrText ?? '', 16), PAGE)).toBeUndefined();
    expect(result.storedBytes).toBeLessThan(1 << 20);
  });

  it('stores a private mapping of a ckpty image in full (a thawed process maps its memory from one)', async () => {
    const dir = tempDir('ckpty-freeze');
    const sleep = startProcess('/usr/bin/sleep', ['1000'], { cwd: dir });
    await until(() => syscallOf(sleep.pid) === SYS_clock_nanosleep);
    const first = await freezeProcess(sleep.pid, { snapshot: true });
    const mapper = startProcess(await buildFixture('mapfile'), [first.path], { cwd: dir });
    const [, addrText, sizeText] = await mapper.waitFor(/addr=0x([0-9a-f]+) size=(\d+)/);
    const second = await freezeProcess(mapper.pid, { snapshot: true });
    const core = readCore(second.path);
    const addr = parseInt(addrText ?? '', 16);
    const vma = vmas(core).find((v) => v.start === addr);
    expect(vma).toMatchObject({ kind: 8, stored: Number(sizeText) });
    expect(storedBytes(core, addr, Number(sizeText))?.equals(readCore(first.path).bytes)).toBe(true);
  });

  it('does not store clean pages of the executable and libraries', async () => {
    const dir = tempDir('ckpty-freeze');
    const sleep = startProcess('/usr/bin/sleep', ['1000'], { cwd: dir });
    await until(() => syscallOf(sleep.pid) === SYS_clock_nanosleep);
    const result = await freezeProcess(sleep.pid, { snapshot: true });
    const core = readCore(result.path);
    const text = gdb(result.path, '/usr/bin/sleep', ['info proc mappings']);
    const libcText = /(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+ \S*libc\.so\.6/.exec(text);
    expect(storedBytes(core, Number(libcText?.[1]), PAGE)).toBeUndefined();
    expect(result.storedBytes).toBeLessThan(512 << 10);
  });
});

describe('registers and signal state', () => {
  it('keeps ymm registers holding known values across a blocking syscall', async () => {
    const binary = await buildFixture('avx');
    const dir = tempDir('ckpty-freeze');
    const proc = startProcess(binary, [], { cwd: dir });
    await proc.waitFor(/ready pid=\d+/);
    await until(() => syscallOf(proc.pid) === SYS_pause);
    const { path } = await freezeProcess(proc.pid, { snapshot: true });
    const stored = readCore(path).note('LINUX', NT.X86_XSTATE) ?? Buffer.alloc(0);

    // The stored XSAVE area holds the fixture's values in this CPU's layout: xmm i in the
    // legacy area, the upper halves at the AVX component's offset.
    const live = await readLiveXstate(proc.pid);
    const value = (i: number, j: number): number => 0xc0de0000 + 16 * i + j;
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 8; j++) {
        const at = j < 4 ? 160 + 16 * i + 4 * j : live.avxOffset + 16 * i + 4 * (j - 4);
        expect(stored.readUInt32LE(at), `ymm${i} lane ${j}`).toBe(value(i, j));
      }
    }
    // All of it is what ptrace reads from the process (the snapshot let it run on), up to
    // where the image cuts the area: after the last component in use.
    const differs = stored.findIndex((byte, at) => byte !== live.area[at]);
    expect(differs, 'offset of the first stored byte that is not the live one').toBe(-1);

    // gdb reads the registers from the image as it reads them from the kernel's own core
    // of the same values on this CPU (gdb 13 knows only Intel's XSAVE layout: on an AMD
    // EPYC with AVX-512 it shows the upper ymm lanes of either as <unavailable>).
    const reference = await kernelCore('avx', ['abort'], tempDir('ckpty-core'));
    const registers = ['p/x $ymm3.v8_int32', 'p/x $ymm15.v8_int32', 'p/x $xmm0.v4_int32'];
    const printed = (core: string): string[] => gdb(core, binary, registers).match(/^\$\d+ = .*$/gm) ?? [];
    const fromImage = printed(path);
    expect(fromImage).toEqual(printed(reference));
    const lanes = Array.from({ length: 4 }, (_, j) => `0x${value(0, j).toString(16)}`).join(', ');
    expect(fromImage).toContain(`$3 = {${lanes}}`);

    // The snapshot did not disturb them.
    proc.kill('SIGUSR1');
    await proc.waitFor(/avx (ok|bad.*)/);
    expect(proc.output()).toContain('avx ok');
  });

  it('records handlers, flags, masks, the blocked set and queued signals', async () => {
    const binary = await buildFixture('signals');
    const dir = tempDir('ckpty-freeze');
    const proc = startProcess(binary, [], { cwd: dir });
    const [, usr1, usr2, rt] = await proc.waitFor(/ready pid=\d+ usr1=(0x[0-9a-f]+) usr2=(0x[0-9a-f]+) rt=(0x[0-9a-f]+)/);
    await until(() => syscallOf(proc.pid) === SYS_pause);
    const { path } = await freezeProcess(proc.pid, { snapshot: true });
    const core = readCore(path);
    const actions = sigactions(core);
    const SA_SIGINFO = 4n, SA_RESTART = 0x10000000n, SA_NODEFER = 0x40000000n, SA_RESETHAND = 0x80000000n;
    const bit = (sig: number): bigint => 1n << BigInt(sig - 1);
    expect(actions[10 - 1]?.handler).toBe(BigInt(usr1 ?? ''));
    expect((actions[10 - 1]?.flags ?? 0n) & (SA_SIGINFO | SA_RESTART)).toBe(SA_SIGINFO | SA_RESTART);
    expect(actions[10 - 1]?.mask).toBe(bit(12));
    expect(actions[12 - 1]?.handler).toBe(BigInt(usr2 ?? ''));
    expect((actions[12 - 1]?.flags ?? 0n) & SA_NODEFER).toBe(SA_NODEFER);
    expect(actions[12 - 1]?.mask).toBe(bit(2));
    expect(actions[37 - 1]?.handler).toBe(BigInt(rt ?? ''));
    expect((actions[37 - 1]?.flags ?? 0n) & SA_RESETHAND).toBe(SA_RESETHAND);
    expect(actions[15 - 1]?.handler).toBe(1n); // SIGTERM ignored
    expect(actions[5 - 1]?.handler).toBe(BigInt(usr2 ?? '')); // SIGTRAP
    expect(actions[2 - 1]?.handler).toBe(0n); // SIGINT default

    const signals = signalState(core);
    expect(signals.blocked).toBe(bit(1) | bit(14) | bit(39));
    expect(signals.pending | signals.shared).toBe(bit(14) | bit(39));
    expect(signals.queued).toContainEqual({ signo: 39, value: 42 });
    expect(signals.queued.some((q) => q.signo === 14)).toBe(true);

    // Untouched by the snapshot: the process reports the same state itself.
    proc.kill('SIGUSR1');
    const [state] = await proc.waitFor(/state .*\n/);
    expect(state).toContain('blocked=0x4000002001 pending=0x4000002000');
    expect(state).toContain('term=ign trap=handler');
  });

  it('records open files with their offsets, flags and close-on-exec', async () => {
    const binary = await buildFixture('openfile');
    const dir = tempDir('ckpty-freeze');
    const file = join(dir, 'data');
    const proc = startProcess(binary, [file, '12345'], { cwd: dir });
    await proc.waitFor(/ready pid=\d+/);
    await until(() => syscallOf(proc.pid) === SYS_pause);
    const { path } = await freezeProcess(proc.pid, { snapshot: true });
    const records = fds(readCore(path));
    const O_RDWR = 2;
    expect(records.find((r) => r.fd === 3)).toMatchObject({ kind: 0, pos: 12345, path: file, cloexec: 0 });
    expect((records.find((r) => r.fd === 3)?.flags ?? 0) & 3).toBe(O_RDWR);
    expect(records.find((r) => r.fd === 4)).toMatchObject({ kind: 0, pos: 0, path: file, cloexec: 1 });
    expect(records.find((r) => r.fd === 0)).toMatchObject({ kind: 3, path: '/dev/null' });
    proc.kill('SIGUSR1');
    await proc.waitFor(/fd3 offset=12345 byte=46 fd4 offset=0 cloexec=1/);
  });
});

