/**
 * `ckpty info`: an image described for people (text) and for tools (JSON).
 *
 * JSON conventions: 64-bit values are strings, addresses/masks/hashes in hex
 * ("0x7ffd…"), other 64-bit integers in decimal; everything else is a number.
 */
import { formatBytes, shellWord } from '../base/format.js';
import { openImage } from './file.js';
import { formatAll, formatChanged } from '../termios/stty.js';
import type { FileDescriptor, Image, SignalAction, Vma } from './image.js';

const hex = (value: bigint | number): string => `0x${value.toString(16)}`;
const octal = (value: number, width: number): string => value.toString(8).padStart(width, '0');

/** `2025-11-27 14:45:00.123 +0100`, in the local time zone. */
export function localTime(date: Date): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.floor(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)} ${zone}`
  );
}

/** ISO 8601 in UTC; `invalid` for a time no Date can hold. */
const isoTime = (date: Date): string => (Number.isNaN(date.getTime()) ? 'invalid' : date.toISOString());

/** Columns padded to their widest cell; the last column is not padded. */
function table(header: string[], rows: string[][], indent = '  '): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string =>
    indent + cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

const storedText = (bytes: number): string => (bytes === 0 ? '-' : formatBytes(bytes));

function vmaRows(vmas: Vma[]): string[][] {
  return vmas.map((vma) => [
    vma.start.toString(16),
    vma.end.toString(16),
    vma.perms,
    formatBytes(Number(vma.end - vma.start)),
    storedText(vma.stored),
    vma.kind,
    vma.path,
  ]);
}

function fdRows(fds: FileDescriptor[]): string[][] {
  return fds.map((fd) => [
    String(fd.fd),
    fd.kind,
    // O_LARGEFILE is on for every fd of a 64-bit process: noise for people.
    [...fd.flagNames.filter((name) => name !== 'O_LARGEFILE'), ...(fd.cloexec && !fd.flagNames.includes('O_CLOEXEC') ? ['O_CLOEXEC'] : [])].join('|'),
    fd.pos.toString(),
    fd.path,
  ]);
}

function describeAction(action: SignalAction): string {
  const what = action.disposition === 'handler' ? `handler ${hex(action.handler)}` : action.disposition;
  const flags = action.flagNames.filter((name) => name !== 'SA_RESTORER');
  const parts = [what];
  if (flags.length > 0) parts.push(flags.join('|'));
  if (action.maskNames.length > 0) parts.push(`mask ${action.maskNames.join(' ')}`);
  return parts.join(', ');
}

const names = (list: string[]): string => (list.length === 0 ? 'none' : list.join(' '));

function describeRestart(image: Image): string | null {
  const { restart } = image.process;
  switch (restart.kind) {
    case 'none':
      return null;
    case 'rewound':
      return `inside syscall ${restart.origRax} (returned ${restart.syscallRet}): rewound to re-enter it`;
    case 'block':
      return `inside syscall ${restart.origRax} (returned ${restart.syscallRet}, restart_block): rewound to re-enter the original syscall`;
  }
}

export function formatInfo(image: Image, path: string): string {
  const { process } = image;
  const lines: string[] = [];
  const field = (label: string, value: string): void => {
    lines.push(`${label.padEnd(10)}${value}`);
  };
  field('image', `${path} (ckpty image version ${image.version}, ${formatBytes(image.fileSize)})`);
  field('process', `${process.comm}, pid ${process.pid} (ppid ${process.ppid}, pgid ${process.pgid}, sid ${process.sid}), uid ${process.uid}, gid ${process.gid}`);
  field('argv', image.argv.map(shellWord).join(' '));
  field('exe', process.exe);
  field('cwd', process.cwd);
  field('frozen', `${isoTime(process.freezeTime)} (local ${Number.isNaN(process.freezeTime.getTime()) ? 'invalid' : localTime(process.freezeTime)}), Linux ${process.kernelRelease}`);
  const how = process.snapshot ? 'snapshot: the process ran on' : 'freeze: the process ended';
  field('mode', process.wasStopped ? `${how}; it was stopped (job control)` : how);
  const restart = describeRestart(image);
  if (restart !== null) field('syscall', restart);
  field('registers', `rip ${hex(image.registers.rip)} rsp ${hex(image.registers.rsp)}`);
  field('umask', octal(process.umask, 4));
  field('stored', `${formatBytes(process.storedBytes)} of memory in ${image.loads.length} segments`);

  lines.push('', `mappings (${image.vmas.length})`);
  lines.push(...table(['START', 'END', 'PERM', 'SIZE', 'STORED', 'KIND', 'BACKING'], vmaRows(image.vmas)));

  lines.push('', `file descriptors (${image.fds.length})`);
  if (image.fds.length > 0) lines.push(...table(['FD', 'KIND', 'FLAGS', 'OFFSET', 'PATH'], fdRows(image.fds)));

  const changed = image.sigactions.filter((action) => action.disposition !== 'default');
  lines.push('');
  if (changed.length === 0) {
    field('signals', 'every disposition is the default');
  } else {
    lines.push(`signal dispositions (${changed.length} not default)`);
    lines.push(...table(['SIGNAL', 'ACTION'], changed.map((action) => [action.name, describeAction(action)])));
  }
  field('blocked', names(image.signals.blockedNames));
  field('pending', names([...new Set([...image.signals.pendingNames, ...image.signals.sharedPendingNames])]));

  lines.push('');
  if (image.tty === null) {
    field('terminal', 'none');
  } else {
    const { tty } = image;
    field('terminal', `${tty.path} (fd ${tty.fd}), ${tty.size.rows} rows, ${tty.size.cols} columns`);
    // What plain `stty` would have printed in that terminal: the settings not sane.
    lines.push(...formatChanged(tty.termios, { ckpt: false }).trimEnd().split('\n').map((line) => `  ${line}`));
  }
  field('screen', image.screen === null ? 'not stored (frozen outside a session)' : `${formatBytes(image.screen.length)} to repaint it`);
  return `${lines.join('\n')}\n`;
}

const addresses = <K extends string>(record: Record<K, bigint>): Record<K, string> =>
  Object.fromEntries(Object.entries(record).map(([name, value]) => [name, hex(value as bigint)])) as Record<K, string>;

const decimal = (value: bigint | null): string | null => (value === null ? null : value.toString());

/** The image as plain JSON values (see the conventions at the top). */
export function infoJson(image: Image, path: string): object {
  const { process } = image;
  return {
    path,
    version: image.version,
    fileSize: image.fileSize,
    storedBytes: process.storedBytes,
    process: {
      pid: process.pid,
      ppid: process.ppid,
      pgid: process.pgid,
      sid: process.sid,
      uid: process.uid,
      gid: process.gid,
      umask: octal(process.umask, 4),
      personality: process.personality,
      comm: process.comm,
      exe: process.exe,
      cwd: process.cwd,
      kernelRelease: process.kernelRelease,
      freezeTime: isoTime(process.freezeTime),
      freezeTimeNs: process.freezeTimeNs.toString(),
      snapshot: process.snapshot,
      wasStopped: process.wasStopped,
      restart: {
        kind: process.restart.kind,
        origRax: process.restart.origRax.toString(),
        syscallRet: process.restart.syscallRet.toString(),
      },
      mm: addresses(process.mm as unknown as Record<string, bigint>),
      rlimits: process.rlimits.map((limit) => ({ resource: limit.resource, cur: decimal(limit.cur), max: decimal(limit.max) })),
      rseq: process.rseq && { addr: hex(process.rseq.addr), len: process.rseq.len, sig: hex(process.rseq.sig) },
      vdso: { size: process.vdso.size.toString(), hash: hex(process.vdso.hash) },
    },
    argv: image.argv,
    registers: addresses(image.registers),
    vmas: image.vmas.map((vma) => ({
      start: hex(vma.start),
      end: hex(vma.end),
      perms: vma.perms,
      kind: vma.kind,
      path: vma.path,
      file: vma.file?.index ?? null,
      pgoff: vma.pgoff.toString(),
      growsDown: vma.growsDown,
      stored: vma.stored,
    })),
    files: image.files.map((file) => ({
      index: file.index,
      path: file.path,
      dev: file.dev.toString(),
      ino: file.ino.toString(),
      size: file.size.toString(),
      mtimeNs: file.mtimeNs.toString(),
      ctimeNs: file.ctimeNs.toString(),
      mode: octal(file.mode, 6),
    })),
    fds: image.fds.map((fd) => ({
      fd: fd.fd,
      kind: fd.kind,
      path: fd.path,
      flags: octal(fd.flags, 7),
      flagNames: fd.flagNames,
      pos: fd.pos.toString(),
      cloexec: fd.cloexec,
      dev: fd.dev.toString(),
      ino: fd.ino.toString(),
      rdev: fd.rdev,
    })),
    sigactions: image.sigactions.map((action) => ({
      signal: action.signal,
      name: action.name,
      disposition: action.disposition,
      handler: hex(action.handler),
      flags: hex(action.flags),
      flagNames: action.flagNames,
      restorer: hex(action.restorer),
      mask: action.maskNames,
    })),
    signals: {
      blocked: image.signals.blockedNames,
      pending: image.signals.pendingNames,
      sharedPending: image.signals.sharedPendingNames,
      queued: image.signals.queued,
    },
    tty: image.tty && {
      fd: image.tty.fd,
      path: image.tty.path,
      ...image.tty.size,
      termios: {
        iflag: octal(image.tty.termios.iflag, 6),
        oflag: octal(image.tty.termios.oflag, 6),
        cflag: octal(image.tty.termios.cflag, 6),
        lflag: octal(image.tty.termios.lflag, 6),
        line: image.tty.termios.line,
        cc: image.tty.termios.cc,
      },
      stty: formatAll(image.tty.termios, { ckpt: false, size: image.tty.size }),
    },
    screenBytes: image.screen?.length ?? null,
    standardNotes: image.standardNotes,
    notes: image.notes.map((note) => ({ ...note, type: hex(note.type) })),
    loads: image.loads.map((load) => ({
      index: load.index,
      vaddr: hex(load.vaddr),
      memsz: load.memsz.toString(),
      offset: load.offset,
      filesz: load.filesz,
      flags: load.flags,
    })),
  };
}

/** The `info` command: print the image at `path`, as text or JSON. */
export async function runInfo(path: string, options: { json?: boolean }): Promise<void> {
  const image = await openImage(path);
  const text = options.json ? `${JSON.stringify(infoJson(image, path), null, 2)}\n` : formatInfo(image, path);
  process.stdout.write(text);
}
