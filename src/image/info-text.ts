/**
 * `ckpty info`'s text: the job as a tree of its members, then every process with its
 * threads, mappings, descriptors (and the state each carries), timers, signals and
 * terminal modes; the screen last. Pure module.
 */
import { formatBytes, processLabel, shellWord } from '../base/format.js';
import { formatChanged } from '../termios/stty.js';
import {
  hex,
  holdersOf,
  memberStateText,
  objectText,
  openFileText,
  plural,
  threadStateText,
  timerText,
  type Holder,
} from './describe.js';
import type { Image, Member, ProcessImage, SignalAction, Vma } from './image.js';

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
export const isoTime = (date: Date): string => (Number.isNaN(date.getTime()) ? 'invalid' : date.toISOString());

/** Columns padded to their widest cell; the last column is not padded. */
function table(header: string[], rows: string[][], indent: string): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string =>
    indent + cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Lines of `label     value`, the label in a column of 10. */
class Lines {
  readonly lines: string[] = [];

  constructor(private readonly indent = '') {}

  field(label: string, value: string): void {
    this.lines.push(`${this.indent}${label.padEnd(10)}${value}`);
  }

  /** A titled table, or the title alone when it has no rows. */
  section(title: string, header: string[], rows: string[][]): void {
    this.lines.push('', `${this.indent}${title}`);
    if (rows.length > 0) this.lines.push(...table(header, rows, `${this.indent}  `));
  }

  text(lines: string[]): void {
    this.lines.push(...lines.map((line) => `${this.indent}${line}`));
  }
}

const names = (list: string[]): string => (list.length === 0 ? 'none' : list.join(' '));
const storedText = (bytes: number): string => (bytes === 0 ? '-' : formatBytes(bytes));

/** The members in tree order (each after its parent), with their depth. */
function memberTree(members: Member[]): { member: Member; depth: number }[] {
  const children = (parent: number | null): Member[] => members.filter((member) => member.parent === parent);
  const walk = (member: Member, depth: number): { member: Member; depth: number }[] => [
    { member, depth },
    ...children(member.index).flatMap((child) => walk(child, depth + 1)),
  ];
  return children(null).flatMap((root) => walk(root, 0));
}

function memberRows(image: Image): string[][] {
  return memberTree(image.members).map(({ member, depth }) => [
    `${depth === 0 ? '' : `${'   '.repeat(depth - 1)} \\_ `}${member.pid}`,
    member.parent === null ? '-' : String(image.members[member.parent]?.pid),
    String(member.pgid),
    memberStateText(member, image),
    member.comm,
  ]);
}

function vmaRows(image: Image, vmas: Vma[]): string[][] {
  const kindText = (vma: Vma): string => {
    const object = vma.object === null ? undefined : image.objects[vma.object];
    return object ? objectText(object) : vma.kind;
  };
  return vmas.map((vma) => [
    vma.start.toString(16),
    vma.end.toString(16),
    vma.perms,
    formatBytes(Number(vma.end - vma.start)),
    storedText(vma.stored),
    kindText(vma),
    vma.path,
  ]);
}

function fdRows(image: Image, holders: Holder[][], p: ProcessImage): string[][] {
  return p.fds.map((fd) => {
    const file = image.openFiles[fd.openFile];
    if (file === undefined) return [String(fd.fd), '?', '', '', ''];
    // O_LARGEFILE is on for every fd of a 64-bit process: noise for people.
    const flags = [...file.flagNames.filter((name) => name !== 'O_LARGEFILE'), ...(fd.cloexec ? ['O_CLOEXEC'] : [])];
    return [String(fd.fd), file.kind, `#${file.index}`, flags.join('|'), openFileText(image, holders, file)];
  });
}

function describeAction(action: SignalAction): string {
  const what = action.disposition === 'handler' ? `handler ${hex(action.handler)}` : action.disposition;
  const flags = action.flagNames.filter((name) => name !== 'SA_RESTORER');
  const parts = [what];
  if (flags.length > 0) parts.push(flags.join('|'));
  if (action.maskNames.length > 0) parts.push(`mask ${action.maskNames.join(' ')}`);
  return parts.join(', ');
}

function formatSignals(out: Lines, p: ProcessImage): void {
  const changed = p.sigactions.filter((action) => action.disposition !== 'default');
  if (changed.length === 0) {
    out.lines.push('');
    out.field('signals', 'every disposition is the default');
  } else {
    out.section(`signal dispositions (${changed.length} not default)`, ['SIGNAL', 'ACTION'], changed.map((action) => [action.name, describeAction(action)]));
  }
  out.field('pending', names(p.signals.sharedPendingNames));
  for (const queued of p.signals.queued) {
    out.field('queued', `${queued.name} (code ${queued.code}) for ${queued.tid === 0 ? 'the process' : `thread ${queued.tid}`}`);
  }
}

function formatTerminal(out: Lines, p: ProcessImage): void {
  out.lines.push('');
  if (p.tty === null) {
    out.field('terminal', 'none');
    return;
  }
  const { tty } = p;
  out.field('terminal', `${tty.path} (fd ${tty.fd}), ${tty.size.rows} rows, ${tty.size.cols} columns`);
  // What plain `stty` would have printed in that terminal: the settings not sane.
  out.text(formatChanged(tty.termios, { ckpt: false }).trimEnd().split('\n').map((line) => `  ${line}`));
}

function formatProcess(image: Image, holders: Holder[][], p: ProcessImage): string[] {
  const { process } = p;
  const out = new Lines('  ');
  out.field('argv', p.argv.map(shellWord).join(' '));
  out.field('exe', process.exe);
  out.field('cwd', process.cwd);
  out.field('ids', `ppid ${process.ppid}, pgid ${process.pgid}, sid ${process.sid}, uid ${process.uid}, gid ${process.gid}`);
  out.field('umask', octal(process.umask, 4));
  out.field('stored', `${formatBytes(process.storedBytes)} of memory in ${p.loads.length} segments`);
  out.section(
    `threads (${p.threads.length})`,
    ['TID', 'COMM', 'RIP', 'BLOCKED', 'STATE'],
    p.threads.map((thread) => [String(thread.tid), thread.comm, hex(thread.registers.rip), names(thread.blockedNames), threadStateText(thread)]),
  );
  out.section(`mappings (${p.vmas.length})`, ['START', 'END', 'PERM', 'SIZE', 'STORED', 'KIND', 'BACKING'], vmaRows(image, p.vmas));
  out.section(`descriptors (${p.fds.length})`, ['FD', 'KIND', 'OPEN', 'FLAGS', 'STATE'], fdRows(image, holders, p));
  if (p.timers.length > 0) out.section(`timers (${p.timers.length})`, ['TIMER'], p.timers.map((timer) => [timerText(timer)]));
  formatSignals(out, p);
  formatTerminal(out, p);
  return [`process ${processLabel(process.pid, process.comm)}, member ${p.member}`, ...out.lines];
}

function jobSummary(image: Image): string {
  const zombies = image.members.length - image.processes.length;
  const processes = image.processes.length === 1 ? '1 process' : `${image.processes.length} processes`;
  const status = image.members[image.job.statusMember];
  const reports = image.members.length > 1 && status ? `; its status is ${processLabel(status.pid, status.comm)}'s` : '';
  return `${processes}${zombies ? ` and ${plural(zombies, 'zombie')}` : ''}, process group ${image.job.pgid}${reports}`;
}

export function formatInfo(image: Image, path: string): string {
  const first = image.processes[0]?.process;
  const out = new Lines();
  out.field('image', `${path} (ckpty image version ${image.version}, ${formatBytes(image.fileSize)})`);
  out.field('job', jobSummary(image));
  if (first) {
    const local = Number.isNaN(first.freezeTime.getTime()) ? 'invalid' : localTime(first.freezeTime);
    out.field('frozen', `${isoTime(first.freezeTime)} (local ${local}), Linux ${first.kernelRelease}`);
    const how = first.snapshot ? 'snapshot: the job ran on' : 'freeze: the job ended';
    out.field('mode', first.wasStopped ? `${how}; it was stopped (job control)` : how);
  }
  const memory = image.processes.reduce((sum, p) => sum + p.process.storedBytes, 0);
  out.field('stored', `${formatBytes(memory)} of memory, ${formatBytes(image.job.dataArea.length)} of pipe, socket and file data`);
  out.field('screen', image.screen === null ? 'not stored (frozen outside a session)' : `${formatBytes(image.screen.length)} to repaint it`);
  if (image.members.length > 1) out.section(`members (${image.members.length})`, ['PID', 'PARENT', 'PGID', 'STATE', 'COMM'], memberRows(image));
  const holders = holdersOf(image);
  for (const p of image.processes) out.lines.push('', ...formatProcess(image, holders, p));
  return `${out.lines.join('\n')}\n`;
}
