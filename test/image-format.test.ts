/**
 * format.ts and linux.ts against the C compiler: every struct member's offset, size
 * and signedness, every struct's size and every constant, as tty/common/image.h,
 * <elf.h>, <sys/procfs.h> and the kernel's uapi headers define them. Signal names
 * against bash's `kill -l`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ALL_LAYOUTS,
  AUXV_ENTRY_SIZE,
  Elf,
  FormatConstant,
  FPREGSET_SIZE,
  MemberState,
  NoteType,
  ObjectKind,
  OfileKind,
  ProcessFlag,
  Restart,
  SIGINFO_HEAD,
  SIGINFO_SIZE,
  StandardNoteType,
  TimerKind,
  VmaFlag,
  VmaKind,
  type StructLayout,
} from '../src/image/format.js';
import {
  Clock,
  EpollEvent,
  EventfdFlag,
  InotifyMask,
  OpenFlag,
  Prot,
  RLIMIT_NAMES,
  Seal,
  SigactionFlag,
  SigevNotify,
  signalName,
  SYSCALL_NUMBERS,
  TimerfdFlag,
} from '../src/image/linux.js';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'ckpty-image-format-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** One line per fact: `<key> <value>`; the C program prints the same keys. */
type Facts = Map<string, string>;

function expectedMembers(layout: StructLayout, cType: string, prefix: string, base: number, facts: Facts): void {
  for (const [name, field] of Object.entries(layout.fields)) {
    const path = `${prefix}${name}`;
    facts.set(`offset ${cType} ${path}`, String(base + field.offset));
    facts.set(`size ${cType} ${path}`, String(field.size));
    if (typeof field.type === 'string') {
      if (field.count === 1) facts.set(`signed ${cType} ${path}`, field.type.startsWith('i') ? '1' : '0');
    } else {
      // An array of structs is checked through its first element.
      expectedMembers(field.type, cType, `${path}${field.count > 1 ? '[0]' : ''}.`, base + field.offset, facts);
    }
  }
}

function cMembers(layout: StructLayout, cType: string, prefix: string, out: string[]): void {
  const member = (path: string): string => `((${cType} *)0)->${path}`;
  for (const [name, field] of Object.entries(layout.fields)) {
    const path = `${prefix}${name}`;
    out.push(`printf("offset ${cType} ${path} %zu\\n", offsetof(${cType}, ${path}));`);
    out.push(`printf("size ${cType} ${path} %zu\\n", sizeof(${member(path)}));`);
    if (typeof field.type === 'string') {
      if (field.count === 1) out.push(`printf("signed ${cType} ${path} %d\\n", (__typeof__(${member(path)}))-1 < 0);`);
    } else {
      cMembers(field.type, cType, `${path}${field.count > 1 ? '[0]' : ''}.`, out);
    }
  }
}

function constantLines(groups: Record<string, number>[], out: string[], facts: Facts): void {
  for (const group of groups) {
    for (const [name, value] of Object.entries(group)) {
      facts.set(`const ${name}`, String(value));
      out.push(`printf("const ${name} %lld\\n", (long long)(${name}));`);
    }
  }
}

function runC(name: string, includes: string[], statements: string[]): Facts {
  const source = [
    '#define _GNU_SOURCE',
    ...includes.map((header) => `#include ${header}`),
    'int main(void) {',
    ...statements,
    'return 0;',
    '}',
  ].join('\n');
  const sourcePath = join(work, `${name}.c`);
  writeFileSync(sourcePath, source);
  const binary = join(work, name);
  execFileSync('cc', ['-std=gnu11', '-Wall', '-Werror', '-I', join(root, 'tty/common'), '-o', binary, sourcePath]);
  const facts: Facts = new Map();
  for (const line of execFileSync(binary, { encoding: 'utf8' }).trim().split('\n')) {
    const at = line.lastIndexOf(' ');
    facts.set(line.slice(0, at), line.slice(at + 1));
  }
  return facts;
}

describe('format.ts mirrors the C definitions', () => {
  it('has the offset, size and signedness of every struct member, and every struct size', () => {
    const expected: Facts = new Map();
    const statements: string[] = [];
    for (const layout of ALL_LAYOUTS) {
      expected.set(`sizeof ${layout.cType}`, String(layout.size));
      statements.push(`printf("sizeof ${layout.cType} %zu\\n", sizeof(${layout.cType}));`);
      expectedMembers(layout, layout.cType, '', 0, expected);
      cMembers(layout, layout.cType, '', statements);
    }
    // siginfo_t: only its head is read, but each queued record holds a whole one.
    expected.set('sizeof siginfo_t', String(SIGINFO_SIZE));
    statements.push('printf("sizeof siginfo_t %zu\\n", sizeof(siginfo_t));');
    expected.set('sizeof elf_fpregset_t', String(FPREGSET_SIZE));
    statements.push('printf("sizeof elf_fpregset_t %zu\\n", sizeof(elf_fpregset_t));');
    expected.set('sizeof auxv entry', String(AUXV_ENTRY_SIZE));
    statements.push('printf("sizeof auxv entry %zu\\n", sizeof(Elf64_auxv_t));');
    expectedMembers(SIGINFO_HEAD, 'siginfo_t', '', 0, expected);
    cMembers(SIGINFO_HEAD, 'siginfo_t', '', statements);

    const actual = runC(
      'layouts',
      ['<stddef.h>', '<stdio.h>', '<elf.h>', '<signal.h>', '<sys/procfs.h>', '<sys/user.h>', '"image.h"'],
      statements,
    );
    expect(actual.size).toBeGreaterThan(300);
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
  });

  it('has the value of every constant of image.h and <elf.h>', () => {
    const expected: Facts = new Map();
    const statements: string[] = [];
    constantLines(
      [FormatConstant, NoteType, ProcessFlag, Restart, VmaKind, VmaFlag, TimerKind, MemberState, ObjectKind, OfileKind, StandardNoteType, Elf],
      statements,
      expected,
    );
    statements.push('printf("const CKPT_NOTE_OWNER %s\\n", CKPT_NOTE_OWNER);');
    expected.set('const CKPT_NOTE_OWNER', 'CKPTY');
    const actual = runC('constants', ['<stdio.h>', '<elf.h>', '"image.h"'], statements);
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
  });

  it('names open flags, sigaction flags, protections and rlimits with the kernel uapi values', () => {
    const expected: Facts = new Map();
    const statements: string[] = [];
    const rlimits = Object.fromEntries(RLIMIT_NAMES.map((name, index) => [name, index]));
    constantLines([OpenFlag, SigactionFlag, Prot, rlimits], statements, expected);
    const actual = runC(
      'uapi',
      ['<stdio.h>', '<linux/fcntl.h>', '<asm/signal.h>', '<asm/mman.h>', '<linux/resource.h>'],
      statements,
    );
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
  });

  it('names clocks, seals, inotify masks and syscalls with the kernel uapi values', () => {
    const expected: Facts = new Map();
    const statements: string[] = [];
    // F_SEAL_EXEC (Linux 6.3) is newer than Debian 12's kernel headers.
    const { F_SEAL_EXEC: _newer, ...seals } = Seal;
    const syscalls = Object.fromEntries(Object.entries(SYSCALL_NUMBERS).map(([name, number]) => [`__NR_${name}`, number]));
    constantLines([Clock, seals, InotifyMask, syscalls], statements, expected);
    const actual = runC('uapi2', ['<stdio.h>', '<linux/time.h>', '<linux/fcntl.h>', '<linux/inotify.h>', '<asm/unistd_64.h>'], statements);
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
  });

  it('names epoll events, sigevent notifications and eventfd/timerfd flags with the C library values', () => {
    const expected: Facts = new Map();
    const statements: string[] = [];
    // The header spells the top bit as a negative int; the format stores it as u32.
    const epoll = Object.fromEntries(Object.entries(EpollEvent).map(([name, bit]) => [`(unsigned)${name}`, bit]));
    constantLines([epoll, SigevNotify, EventfdFlag, TimerfdFlag], statements, expected);
    const actual = runC('libc', ['<stdio.h>', '<signal.h>', '<sys/epoll.h>', '<sys/eventfd.h>', '<sys/timerfd.h>'], statements);
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
  });
});

describe('signal names', () => {
  it("are bash's kill -l names for all 64 signals", () => {
    const script = 'for i in $(seq 1 64); do echo "$i $(kill -l $i 2>/dev/null)"; done';
    const lines = execFileSync('bash', ['-c', script], { encoding: 'utf8' }).trim().split('\n');
    expect(lines).toHaveLength(64);
    for (const line of lines) {
      const [number, name] = line.split(' ');
      const signal = Number(number);
      // bash has no names for 32 and 33 (glibc's internal signals).
      expect(signalName(signal)).toBe(name ? `SIG${name}` : `SIG${signal}`);
    }
  });
});
