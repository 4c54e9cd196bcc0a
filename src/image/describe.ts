/**
 * Words for what a job image holds, shared by `ckpty info`'s text and JSON: a thread's
 * state, a descriptor's stored state, a timer, a zombie's end, and who holds which
 * open file. Pure module.
 */
import { formatBytes, processLabel } from '../base/format.js';
import type { Image, JobObject, Member, OpenFile, ThreadState, Timer } from './image.js';
import {
  clockName,
  deviceName,
  eventfdFlagNames,
  sealNames,
  SigevNotify,
  sigevNotifyName,
  signalName,
  syscallName,
  timerfdFlagNames,
} from './linux.js';

export const hex = (value: bigint | number): string => `0x${value.toString(16)}`;

/** `1.5 s`, `500 ms`, `20 µs`, `7 ns`. */
export function formatNanoseconds(ns: bigint): string {
  const units: [bigint, string][] = [
    [1_000_000_000n, 's'],
    [1_000_000n, 'ms'],
    [1_000n, 'µs'],
  ];
  for (const [scale, unit] of units) {
    if (ns >= scale) return `${Number((ns * 1000n) / scale) / 1000} ${unit}`;
  }
  return `${ns} ns`;
}

/** Where a thread was seized: `running`, or the syscall it waits in and what the thaw does about it. */
export function threadStateText(thread: ThreadState): string {
  const { restart } = thread;
  switch (restart.kind) {
    case 'none':
      return 'running (not in a syscall)';
    case 'rewound':
      return `in ${syscallName(restart.origRax)}() (returned ${restart.syscallRet}): re-entered at the thaw`;
    case 'block':
      return `in ${syscallName(restart.origRax)}() (restart_block, returned ${restart.syscallRet}): the original call is re-entered at the thaw`;
  }
}

/** A zombie's end, from its wait status: `exited 1`, `killed by SIGTERM`. */
export function waitStatusText(status: number): string {
  const signal = status & 0x7f;
  if (signal === 0) return `exited ${(status >> 8) & 0xff}`;
  return `killed by ${signalName(signal)}${status & 0x80 ? ' (core dumped)' : ''}`;
}

export function memberStateText(member: Member, image: Image): string {
  if (member.state === 'zombie') return `zombie, ${waitStatusText(member.waitStatus)}`;
  const threads = image.processes.find((p) => p.member === member.index)?.threads.length ?? 0;
  return threads === 1 ? 'live' : `live, ${threads} threads`;
}

/** A descriptor of a member: `consumer[5002] fd 0`. */
export interface Holder {
  member: number;
  pid: number;
  comm: string;
  fd: number;
}

/** Who holds each open file: for every open file index, the descriptors (of any member) naming it. */
export function holdersOf(image: Image): Holder[][] {
  const holders: Holder[][] = image.openFiles.map(() => []);
  for (const p of image.processes) {
    for (const fd of p.fds) holders[fd.openFile]?.push({ member: p.member, pid: p.process.pid, comm: p.process.comm, fd: fd.fd });
  }
  return holders;
}

const holderText = (holder: Holder): string => `${processLabel(holder.pid, holder.comm)} fd ${holder.fd}`;

/** The descriptors at the other end of a pipe or socket pair. */
function peers(image: Image, holders: Holder[][], file: OpenFile): string {
  const others = image.openFiles
    .filter((other) => other.object === file.object && other.end !== file.end)
    .flatMap((other) => holders[other.index] ?? []);
  return others.length === 0 ? 'none in the job' : others.map(holderText).join(', ');
}

const OBJECT_NAMES: Record<JobObject['kind'], string> = {
  pipe: 'pipe',
  'stream-pair': 'stream socket pair',
  'dgram-pair': 'datagram socket pair',
  'seqpacket-pair': 'seqpacket socket pair',
  memfd: 'memfd',
  deleted: 'deleted file',
  shmem: 'shared memory',
};

export const objectText = (object: JobObject): string => `${OBJECT_NAMES[object.kind]} #${object.index}`;

/** `1 expiration`, `2 expirations`. */
export const plural = (count: bigint | number, noun: string): string => `${count} ${noun}${count === 1 || count === 1n ? '' : 's'}`;

const flagList = (names: string[]): string => (names.length === 0 ? '' : ` (${names.join('|')})`);
const sizeText = (bytes: number): string => (bytes === 0 ? 'empty' : `${formatBytes(bytes)} buffered`);

/** What an epoll or inotify instance watches. */
function watchesText(image: Image, file: OpenFile): string {
  const watches = image.watches.filter((watch) => watch.owner === file.index);
  if (watches.length === 0) return 'watches nothing';
  const each = watches.map((watch) =>
    file.kind === 'epoll'
      ? `fd ${watch.tfd}${flagList(watch.eventNames)}${watch.data === 0n ? '' : `, data ${hex(watch.data)}`}`
      : `${watch.path}${flagList(watch.eventNames)}`,
  );
  return `watches ${each.join(', ')}`;
}

/** The state an open file carries into the image, in a few words. */
export function openFileText(image: Image, holders: Holder[][], file: OpenFile): string {
  const object = file.object === null ? undefined : image.objects[file.object];
  switch (file.kind) {
    case 'file':
      return `${file.path}, offset ${file.pos}`;
    case 'dir':
    case 'tty':
      return file.path;
    case 'chr':
      return `${file.path} (device ${deviceName(file.rdev)})`;
    case 'pipe': {
      const fifo = object?.name ? `FIFO ${object.name}, ` : '';
      const capacity = object ? `, capacity ${formatBytes(Number(object.size))}` : '';
      const end = file.end === 0 ? 'read end' : 'write end';
      return `${end} of ${fifo}${object ? objectText(object) : 'a pipe'}: ${sizeText(object?.data.length ?? 0)}${capacity}; other end: ${peers(image, holders, file)}`;
    }
    case 'socket': {
      const queue = file.end === 0 ? object?.data : object?.data2;
      return `end ${file.end} of ${object ? objectText(object) : 'a socket pair'}: ${sizeText(queue?.length ?? 0)} to read here; peer: ${peers(image, holders, file)}`;
    }
    case 'object-file': {
      const name = object?.kind === 'deleted' ? `${object.name} (deleted)` : (object?.name ?? '');
      const seals = object && object.seals !== 0 ? `, seals ${sealNames(object.seals).join('|')}` : '';
      return `${name}: ${formatBytes(object?.data.length ?? 0)} stored, offset ${file.pos}${seals}`;
    }
    case 'eventfd':
      return `counter ${file.count}${flagList(eventfdFlagNames(file.kindFlags))}`;
    case 'timerfd': {
      const armed = file.valueNs === 0n ? 'disarmed' : `${formatNanoseconds(file.valueNs)} left`;
      const every = file.intervalNs === 0n ? '' : `, every ${formatNanoseconds(file.intervalNs)}`;
      return `${clockName(file.clock)}${flagList(timerfdFlagNames(file.kindFlags))}, ${armed}${every}, ${plural(file.count, 'expiration')} unread`;
    }
    case 'signalfd':
      return `reads ${file.sigmaskNames.join(' ') || 'no signals'}`;
    case 'epoll':
    case 'inotify':
      return watchesText(image, file);
    case 'closed-socket':
      return `connected to ${file.path || 'a peer'} outside the job: thawed closed`;
  }
}

/** A timer: `posix 0, CLOCK_MONOTONIC, SIGALRM: 500 ms left, every 1 s`. */
export function timerText(timer: Timer): string {
  const what =
    timer.kind === 'posix'
      ? `posix ${timer.id}, ${clockName(timer.clock)}, ${sigevNotifyName(timer.notify)} ${signalName(timer.signal)}${timer.notify === SigevNotify.SIGEV_THREAD_ID ? ` to ${timer.notifyTid}` : ''}`
      : `ITIMER_${timer.kind.toUpperCase()}`;
  const armed = timer.valueNs === 0n ? 'disarmed' : `${formatNanoseconds(timer.valueNs)} left`;
  const every = timer.intervalNs === 0n ? '' : `, every ${formatNanoseconds(timer.intervalNs)}`;
  return `${what}: ${armed}${every}`;
}
