/**
 * `ckpty info --json`: every field of a job image as plain JSON values. 64-bit values
 * are strings, addresses/masks/hashes in hex ("0x7ffd…"), other 64-bit integers in
 * decimal; everything else is a number. Pure module.
 */
import { formatAll } from '../termios/stty.js';
import { hex, holdersOf, openFileText, threadStateText, waitStatusText } from './describe.js';
import type { Image, ProcessImage, ThreadState } from './image.js';
import { isoTime } from './info-text.js';
import { clockName, sealNames, sigevNotifyName, signalName, syscallName } from './linux.js';

const octal = (value: number, width: number): string => value.toString(8).padStart(width, '0');
const decimal = (value: bigint | null): string | null => (value === null ? null : value.toString());
const addresses = <K extends string>(record: Record<K, bigint>): Record<K, string> =>
  Object.fromEntries(Object.entries(record).map(([name, value]) => [name, hex(value as bigint)])) as Record<K, string>;

function threadJson(thread: ThreadState): object {
  return {
    tid: thread.tid,
    comm: thread.comm,
    state: threadStateText(thread),
    restart: {
      kind: thread.restart.kind,
      syscall: thread.restart.kind === 'none' ? null : syscallName(thread.restart.origRax),
      origRax: thread.restart.origRax.toString(),
      syscallRet: thread.restart.syscallRet.toString(),
    },
    registers: addresses(thread.registers),
    blocked: thread.blockedNames,
    pending: thread.pendingNames,
    rseq: thread.rseq && { addr: hex(thread.rseq.addr), len: thread.rseq.len, sig: hex(thread.rseq.sig) },
    robustList: { addr: hex(thread.robustList.addr), len: thread.robustList.len.toString() },
    clearChildTid: hex(thread.clearChildTid),
    altstack: { sp: hex(thread.altstack.sp), size: thread.altstack.size.toString(), flags: thread.altstack.flags },
    xstateSize: thread.xstateSize,
  };
}

function processJson(p: ProcessImage): object {
  const { process } = p;
  return {
    member: p.member,
    core: p.core,
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
    storedBytes: process.storedBytes,
    mm: addresses(process.mm as unknown as Record<string, bigint>),
    rlimits: process.rlimits.map((limit) => ({ resource: limit.resource, cur: decimal(limit.cur), max: decimal(limit.max) })),
    vdso: { size: process.vdso.size.toString(), hash: hex(process.vdso.hash) },
    argv: p.argv,
    threads: p.threads.map(threadJson),
    vmas: p.vmas.map((vma) => ({
      start: hex(vma.start),
      end: hex(vma.end),
      perms: vma.perms,
      kind: vma.kind,
      path: vma.path,
      file: vma.file?.index ?? null,
      object: vma.object,
      pgoff: vma.pgoff.toString(),
      growsDown: vma.growsDown,
      stored: vma.stored,
    })),
    files: p.files.map((file) => ({
      index: file.index,
      path: file.path,
      dev: file.dev.toString(),
      ino: file.ino.toString(),
      size: file.size.toString(),
      mtimeNs: file.mtimeNs.toString(),
      ctimeNs: file.ctimeNs.toString(),
      mode: octal(file.mode, 6),
    })),
    fds: p.fds,
    sigactions: p.sigactions.map((action) => ({
      signal: action.signal,
      name: action.name,
      disposition: action.disposition,
      handler: hex(action.handler),
      flags: hex(action.flags),
      flagNames: action.flagNames,
      restorer: hex(action.restorer),
      mask: action.maskNames,
    })),
    signals: { sharedPending: p.signals.sharedPendingNames, queued: p.signals.queued },
    timers: p.timers.map((timer) => ({
      kind: timer.kind,
      id: timer.id,
      clock: clockName(timer.clock),
      notify: sigevNotifyName(timer.notify),
      signal: signalName(timer.signal),
      notifyTid: timer.notifyTid,
      sigevValue: hex(timer.sigevValue),
      valueNs: timer.valueNs.toString(),
      intervalNs: timer.intervalNs.toString(),
    })),
    tty: p.tty && {
      fd: p.tty.fd,
      path: p.tty.path,
      ...p.tty.size,
      termios: {
        iflag: octal(p.tty.termios.iflag, 6),
        oflag: octal(p.tty.termios.oflag, 6),
        cflag: octal(p.tty.termios.cflag, 6),
        lflag: octal(p.tty.termios.lflag, 6),
        line: p.tty.termios.line,
        cc: p.tty.termios.cc,
      },
      stty: formatAll(p.tty.termios, { ckpt: false, size: p.tty.size }),
    },
    standardNotes: p.standardNotes,
    notes: p.notes.map((note) => ({ ...note, type: hex(note.type) })),
    loads: p.loads.map((load) => ({
      index: load.index,
      vaddr: hex(load.vaddr),
      memsz: load.memsz.toString(),
      offset: load.offset,
      filesz: load.filesz,
      flags: load.flags,
    })),
  };
}

/** The image as plain JSON values (see the conventions at the top). */
export function infoJson(image: Image, path: string): object {
  const holders = holdersOf(image);
  return {
    path,
    version: image.version,
    fileSize: image.fileSize,
    storedBytes: image.processes.reduce((sum, p) => sum + p.process.storedBytes, 0),
    job: {
      pgid: image.job.pgid,
      flags: image.job.flags,
      statusMember: image.job.statusMember,
      monotonicNs: image.job.monotonicNs.toString(),
      boottimeNs: image.job.boottimeNs.toString(),
      dataArea: image.job.dataArea,
    },
    members: image.members.map((member) => ({
      ...member,
      end: member.state === 'zombie' ? waitStatusText(member.waitStatus) : null,
    })),
    processes: image.processes.map(processJson),
    objects: image.objects.map((object) => ({ ...object, size: object.size.toString(), mode: octal(object.mode, 6), sealNames: sealNames(object.seals) })),
    openFiles: image.openFiles.map((file) => ({
      ...file,
      flags: octal(file.flags, 7),
      pos: file.pos.toString(),
      dev: file.dev.toString(),
      ino: file.ino.toString(),
      size: file.size.toString(),
      mtimeNs: file.mtimeNs.toString(),
      clock: clockName(file.clock),
      count: file.count.toString(),
      valueNs: file.valueNs.toString(),
      intervalNs: file.intervalNs.toString(),
      sigmask: hex(file.sigmask),
      state: openFileText(image, holders, file),
      holders: holders[file.index],
    })),
    watches: image.watches.map((watch) => ({ ...watch, data: hex(watch.data) })),
    screenBytes: image.screen?.length ?? null,
  };
}
