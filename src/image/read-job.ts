/**
 * The job, from member 0's notes: the version, the job table (members, their cores,
 * the data area) and the job's own tables (objects, open files, watches, the screen).
 *
 * Pure module.
 */
import {
  CKPT_FORMAT_VERSION,
  CKPT_JOB,
  CKPT_MEMBER,
  CKPT_OBJECT,
  CKPT_OFILE,
  CKPT_PAGE_SIZE,
  CKPT_PROCESS,
  CKPT_WATCH,
  FormatConstant,
  MemberState,
  ObjectKind,
  OfileKind,
} from './format.js';
import { corrupt, ImageError, truncated } from './errors.js';
import type { ByteRange, JobObject, JobState, Member, ObjectKindName, OpenFile, OpenFileKindName, Watch } from './image.js';
import { accessModeOf, epollEventNames, inotifyMaskNames, openFlagNames, signalSetNames } from './linux.js';
import { cString, inside, type NoteSet, type StringTable } from './read-core.js';
import { StructView } from './struct-view.js';

const PAGE = BigInt(CKPT_PAGE_SIZE);

/** The version comes first: another version may have another layout of everything else. */
export function checkVersion(notes: NoteSet): void {
  const desc = notes.required('NT_CKPT_PROCESS');
  if (desc.length < 4) throw corrupt(`note NT_CKPT_PROCESS has size ${desc.length}, not ${CKPT_PROCESS.size}`);
  const version = new DataView(desc.buffer, desc.byteOffset, 4).getUint32(0, true);
  if (version !== CKPT_FORMAT_VERSION) {
    throw new ImageError('version', `unsupported image version ${version} (this ckpty reads version ${CKPT_FORMAT_VERSION})`);
  }
}

// ---- the job table ------------------------------------------------------------------

export interface JobTable {
  job: JobState;
  members: Member[];
}

type MemberView = StructView<keyof typeof CKPT_MEMBER.fields>;

/** A live member's core lies in the file, page-aligned, after the previous one, before the data area. */
function checkMemberCore(index: number, member: MemberView, fileSize: bigint, dataOffset: bigint, coresEnd: bigint): ByteRange | null {
  const pid = member.num('pid');
  const at = member.big('core_offset');
  const size = member.big('core_size');
  const who = `member ${index} (pid ${pid})`;
  if (member.num('state') === MemberState.CKPT_MEMBER_ZOMBIE) {
    if (at !== 0n || size !== 0n) throw corrupt(`${who} is a zombie but has a core`);
    return null;
  }
  if (index === 0 && at !== 0n) throw corrupt(`member 0's core is at ${at}, not at the start of the file`);
  if (at % PAGE !== 0n) throw corrupt(`${who} has its core at ${at}, not page-aligned`);
  if (size === 0n) throw corrupt(`${who} is live but has no core`);
  if (!inside(at, size, fileSize)) throw truncated(`${who} has its core at ${at}-${at + size} but the file has ${fileSize} bytes`);
  if (at < coresEnd) throw corrupt(`${who} has its core at ${at}, before the end of the previous one (${coresEnd})`);
  if (at + size > dataOffset) throw corrupt(`${who} has its core end at ${at + size}, inside the data area (at ${dataOffset})`);
  return { offset: Number(at), length: Number(size) };
}

function decodeMembers(views: MemberView[], fileSize: bigint, dataOffset: bigint): Member[] {
  const count = views.length;
  let coresEnd = 0n;
  const members = views.map((view, index): Member => {
    const pid = view.num('pid');
    const who = `member ${index} (pid ${pid})`;
    const stateCode = view.num('state');
    if (stateCode > MemberState.CKPT_MEMBER_ZOMBIE) throw corrupt(`${who} has unknown state ${stateCode}`);
    if (index === 0 && stateCode !== MemberState.CKPT_MEMBER_LIVE) throw corrupt('member 0 is a zombie (its core must start the file)');
    const core = checkMemberCore(index, view, fileSize, dataOffset, coresEnd);
    if (core !== null) coresEnd = BigInt(core.offset + core.length);
    const parent = view.num('parent');
    if (parent < -1 || parent >= count) throw corrupt(`${who} has parent ${parent}, but the job has ${count} members`);
    const state = stateCode === MemberState.CKPT_MEMBER_LIVE ? 'live' : 'zombie';
    if (state === 'zombie' && parent === -1) throw corrupt(`${who} is a zombie whose parent is not a member`);
    return {
      index,
      pid,
      parent: parent === -1 ? null : parent,
      pgid: view.num('pgid'),
      sid: view.num('sid'),
      state,
      waitStatus: view.num('wait_status'),
      comm: cString(view.bytes('comm')),
      core,
    };
  });
  // A walk up from any member ends at a root within `count` steps, or the links form a cycle.
  for (const member of members) {
    let at: number | null = member.index;
    for (let steps = 0; at !== null; steps++, at = members[at]?.parent ?? null) {
      if (steps === count) throw corrupt(`member ${member.index} (pid ${member.pid}) is its own ancestor (the parent links form a cycle)`);
    }
  }
  return members;
}

export function decodeJobTable(notes: NoteSet, fileSize: number): JobTable {
  const desc = notes.required('NT_CKPT_JOB');
  if (desc.length < CKPT_JOB.size) throw corrupt(`note NT_CKPT_JOB has size ${desc.length}, less than ${CKPT_JOB.size}`);
  const job = new StructView(desc, 0, CKPT_JOB);
  const count = job.num('nmembers');
  const max = FormatConstant.CKPT_MAX_MEMBERS;
  if (count === 0 || count > max) throw corrupt(`a job of ${count} members (1 to ${max})`);
  const expected = CKPT_JOB.size + count * CKPT_MEMBER.size;
  if (desc.length !== expected) throw corrupt(`note NT_CKPT_JOB has size ${desc.length}, but ${count} members need ${expected}`);
  const dataOffset = job.big('data_offset');
  const dataSize = job.big('data_size');
  if (dataOffset % PAGE !== 0n) throw corrupt(`the data area is at ${dataOffset}, not page-aligned`);
  if (!inside(dataOffset, dataSize, BigInt(fileSize))) {
    throw truncated(`the data area ends at ${dataOffset + dataSize} but the file has ${fileSize} bytes`);
  }
  const views = Array.from({ length: count }, (_, i) => new StructView(desc, CKPT_JOB.size + i * CKPT_MEMBER.size, CKPT_MEMBER));
  const members = decodeMembers(views, BigInt(fileSize), dataOffset);
  const statusMember = job.num('status_member');
  if (statusMember < 0 || statusMember >= count) throw corrupt(`the job's status member is ${statusMember}, but the job has ${count} members`);
  return {
    job: {
      pgid: job.num('pgid'),
      flags: job.num('flags'),
      statusMember,
      monotonicNs: job.big('monotonic_ns'),
      boottimeNs: job.big('boottime_ns'),
      // Inside the file, so both fit in a number.
      dataArea: { offset: Number(dataOffset), length: Number(dataSize) },
    },
    members,
  };
}

// ---- the job's tables ---------------------------------------------------------------

export interface JobTables {
  objects: JobObject[];
  openFiles: OpenFile[];
  watches: Watch[];
  screen: Uint8Array | null;
}

const OBJECT_KINDS: Record<number, ObjectKindName> = {
  [ObjectKind.CKPT_OBJ_PIPE]: 'pipe',
  [ObjectKind.CKPT_OBJ_STREAM_PAIR]: 'stream-pair',
  [ObjectKind.CKPT_OBJ_DGRAM_PAIR]: 'dgram-pair',
  [ObjectKind.CKPT_OBJ_SEQPACKET_PAIR]: 'seqpacket-pair',
  [ObjectKind.CKPT_OBJ_MEMFD]: 'memfd',
  [ObjectKind.CKPT_OBJ_DELETED]: 'deleted',
  [ObjectKind.CKPT_OBJ_SHMEM]: 'shmem',
};

function decodeObjects(notes: NoteSet, strings: StringTable, dataSize: bigint): JobObject[] {
  return notes.table('NT_CKPT_OBJECTS', CKPT_OBJECT).map((view, index) => {
    const kindCode = view.num('kind');
    const kind = OBJECT_KINDS[kindCode];
    if (kind === undefined) throw corrupt(`object ${index} has unknown kind ${kindCode}`);
    const data = [view.big('data_offset'), view.big('data_len')] as const;
    const data2 = [view.big('data2_offset'), view.big('data2_len')] as const;
    if (!inside(...data, dataSize) || !inside(...data2, dataSize)) {
      throw corrupt(`object ${index} has data outside the data area (${dataSize} bytes)`);
    }
    return {
      index,
      kind,
      seals: view.num('seals'),
      data: { offset: Number(data[0]), length: Number(data[1]) },
      data2: { offset: Number(data2[0]), length: Number(data2[1]) },
      size: view.big('size'),
      mode: view.num('mode'),
      name: strings.get(view.num('name'), `NT_CKPT_OBJECTS[${index}].name`),
    };
  });
}

const OBJECT_KIND_CODES = new Map(Object.entries(OBJECT_KINDS).map(([code, name]) => [name, Number(code)]));

const OPEN_FILE_KINDS: Record<number, OpenFileKindName> = {
  [OfileKind.CKPT_OF_REG]: 'file',
  [OfileKind.CKPT_OF_DIR]: 'dir',
  [OfileKind.CKPT_OF_TTY]: 'tty',
  [OfileKind.CKPT_OF_CHR]: 'chr',
  [OfileKind.CKPT_OF_PIPE]: 'pipe',
  [OfileKind.CKPT_OF_SOCKET]: 'socket',
  [OfileKind.CKPT_OF_OBJECT_FILE]: 'object-file',
  [OfileKind.CKPT_OF_EVENTFD]: 'eventfd',
  [OfileKind.CKPT_OF_TIMERFD]: 'timerfd',
  [OfileKind.CKPT_OF_SIGNALFD]: 'signalfd',
  [OfileKind.CKPT_OF_EPOLL]: 'epoll',
  [OfileKind.CKPT_OF_INOTIFY]: 'inotify',
  [OfileKind.CKPT_OF_CLOSED_SOCKET]: 'closed-socket',
};

/** The objects an open file of this kind is an end of, and a description of them; none: object -1. */
const OBJECTS_NEEDED: Partial<Record<OpenFileKindName, { what: string; kinds: readonly ObjectKindName[] }>> = {
  pipe: { what: 'a pipe', kinds: ['pipe'] },
  socket: { what: 'a socket pair', kinds: ['stream-pair', 'dgram-pair', 'seqpacket-pair'] },
  'object-file': { what: 'a memfd or deleted file', kinds: ['memfd', 'deleted'] },
};

function checkOpenFileObject(index: number, kind: OpenFileKindName, kindCode: number, object: number, objects: JobObject[]): void {
  const needed = OBJECTS_NEEDED[kind];
  if (needed === undefined) {
    if (object !== -1) throw corrupt(`open file ${index} (kind ${kindCode}) refers to object ${object}`);
    return;
  }
  const target = objects[object];
  if (target === undefined) throw corrupt(`open file ${index} refers to object ${object}, but NT_CKPT_OBJECTS has ${objects.length}`);
  if (!needed.kinds.includes(target.kind)) {
    throw corrupt(`open file ${index} needs ${needed.what}, but object ${object} has kind ${OBJECT_KIND_CODES.get(target.kind)}`);
  }
}

function decodeOpenFiles(notes: NoteSet, strings: StringTable, objects: JobObject[]): OpenFile[] {
  return notes.table('NT_CKPT_OFILES', CKPT_OFILE).map((view, index) => {
    const kindCode = view.num('kind');
    const kind = OPEN_FILE_KINDS[kindCode];
    if (kind === undefined) throw corrupt(`open file ${index} has unknown kind ${kindCode}`);
    const object = view.num('object');
    checkOpenFileObject(index, kind, kindCode, object, objects);
    const end = view.num('end');
    if (end > 1) throw corrupt(`open file ${index} is end ${end} (0 or 1)`);
    const flags = view.num('flags');
    const sigmask = view.big('sigmask');
    return {
      index,
      kind,
      flags,
      accessMode: accessModeOf(flags),
      flagNames: openFlagNames(flags),
      pos: view.big('pos'),
      object: object === -1 ? null : object,
      end,
      dev: view.big('dev'),
      ino: view.big('ino'),
      size: view.big('size'),
      mtimeNs: view.big('mtime_ns'),
      rdev: view.num('rdev'),
      clock: view.num('clock'),
      count: view.big('count'),
      valueNs: view.big('value_ns'),
      intervalNs: view.big('interval_ns'),
      sigmask,
      sigmaskNames: signalSetNames(sigmask),
      kindFlags: view.num('kind_flags'),
      path: strings.get(view.num('path'), `NT_CKPT_OFILES[${index}].path`),
    };
  });
}

function decodeWatches(notes: NoteSet, strings: StringTable, openFiles: OpenFile[]): Watch[] {
  return notes.table('NT_CKPT_WATCHES', CKPT_WATCH).map((view, index) => {
    const ownerIndex = view.num('owner');
    const owner = openFiles[ownerIndex];
    if (owner === undefined) throw corrupt(`watch ${index} belongs to open file ${ownerIndex}, but NT_CKPT_OFILES has ${openFiles.length}`);
    if (owner.kind !== 'epoll' && owner.kind !== 'inotify') {
      throw corrupt(`watch ${index} belongs to open file ${ownerIndex}, neither an epoll nor an inotify instance`);
    }
    const target = view.num('target');
    if (owner.kind === 'epoll' && openFiles[target] === undefined) {
      throw corrupt(`epoll watch ${index} watches open file ${target}, but NT_CKPT_OFILES has ${openFiles.length}`);
    }
    if (owner.kind === 'inotify' && target !== -1) throw corrupt(`inotify watch ${index} names open file ${target} (inotify watches paths)`);
    const events = view.num('events');
    return {
      index,
      owner: ownerIndex,
      target: target === -1 ? null : target,
      tfd: view.num('tfd'),
      events,
      eventNames: owner.kind === 'epoll' ? epollEventNames(events) : inotifyMaskNames(events),
      data: view.big('data'),
      path: strings.get(view.num('path'), `NT_CKPT_WATCHES[${index}].path`),
    };
  });
}

function decodeScreen(notes: NoteSet): Uint8Array | null {
  const screen = notes.optional('NT_CKPT_SCREEN');
  const max = FormatConstant.CKPT_MAX_SCREEN_SIZE;
  if (screen !== null && screen.length > max) throw corrupt(`note NT_CKPT_SCREEN has size ${screen.length}, more than ${max}`);
  return screen;
}

/** The job's tables, in the order a reader checks them; their strings are member 0's. */
export function decodeJobTables(notes: NoteSet, strings: StringTable, dataArea: ByteRange): JobTables {
  const objects = decodeObjects(notes, strings, BigInt(dataArea.length));
  const openFiles = decodeOpenFiles(notes, strings, objects);
  const watches = decodeWatches(notes, strings, openFiles);
  return { objects, openFiles, watches, screen: decodeScreen(notes) };
}
