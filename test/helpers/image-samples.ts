/**
 * Sample jobs built from the format (image-builder.ts): the shapes a real job image
 * has, for the readers' tests, `ckpty info`'s and the fuzzers' seeds.
 */
import { ObjectKind, OfileKind, TimerKind, VmaKind } from '../../src/image/format.js';
import { EpollEvent, InotifyMask, Seal, SigevNotify } from '../../src/image/linux.js';
import { buildImage, buildJob, DEFAULT_PROCESS, type BuiltImage, type OfileSpec, type VmaSpec } from './image-builder.js';

const TTY: OfileSpec = { kind: OfileKind.CKPT_OF_TTY, flags: 0o100002, path: '/dev/pts/3', rdev: 0x8803 };
/** 0-2 on the terminal (open file 0), as a shell leaves them. */
const TTY_FDS = [{ fd: 0, ofile: 0 }, { fd: 1, ofile: 0 }, { fd: 2, ofile: 0 }];
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** The bytes of the data area and where each piece lies in it. */
function dataArea(pieces: Record<string, Uint8Array>): { data: Uint8Array; at: Record<string, { offset: number; length: number }> } {
  const at: Record<string, { offset: number; length: number }> = {};
  let size = 0;
  for (const [name, bytes] of Object.entries(pieces)) {
    at[name] = { offset: size, length: bytes.length };
    size += bytes.length;
  }
  const data = new Uint8Array(size);
  for (const [name, bytes] of Object.entries(pieces)) data.set(bytes, at[name]?.offset ?? 0);
  return { data, at };
}

/**
 * `sh -c 'producer | consumer'` frozen mid-way: the shell waits for its children, the
 * producer (two threads) writes into the pipe, 12 bytes are buffered, the consumer
 * reads; a third child has ended and is not collected yet (a zombie).
 */
export function pipelineJob(): BuiltImage {
  const { data, at } = dataArea({ pipe: text('hello world\n') });
  const process = { sid: 4000, pgid: 5000, ppid: 5000 };
  return buildJob({
    pgid: 5000,
    statusMember: 2,
    members: [
      {
        pid: 5000,
        sid: 4000,
        comm: 'sh',
        process: { ...process, ppid: 4000, comm: 'sh', exe: '/usr/bin/dash', argv: ['sh', '-c', 'producer | consumer'], fds: TTY_FDS, threads: [{ tid: 5000, syscallRestart: 1, origRax: 61n, syscallRet: -512n }] },
      },
      {
        pid: 5001,
        parent: 0,
        sid: 4000,
        comm: 'producer',
        process: {
          ...process,
          comm: 'producer',
          argv: ['producer'],
          fds: [{ fd: 0, ofile: 0 }, { fd: 1, ofile: 2 }, { fd: 2, ofile: 0 }],
          threads: [
            { tid: 5001, syscallRestart: 1, origRax: 1n, syscallRet: -512n, xstateSize: 832 },
            { tid: 5003, comm: 'producer:gen', syscallRestart: 1, origRax: 202n, syscallRet: -512n, xstateSize: 832, blocked: 1n << 1n },
          ],
          queued: [{ tid: 5003, signal: 10, code: -6, errno: 0 }],
        },
      },
      {
        pid: 5002,
        parent: 0,
        sid: 4000,
        comm: 'consumer',
        process: { ...process, comm: 'consumer', argv: ['consumer'], fds: [{ fd: 0, ofile: 1 }, { fd: 1, ofile: 0 }, { fd: 2, ofile: 0 }], queued: [] },
      },
      { pid: 5004, parent: 0, sid: 4000, zombie: true, waitStatus: 0x100, comm: 'true' },
    ],
    objects: [{ kind: ObjectKind.CKPT_OBJ_PIPE, data: at.pipe, size: 65536n }],
    ofiles: [
      TTY,
      { kind: OfileKind.CKPT_OF_PIPE, flags: O_RDONLY, object: 0, end: 0 },
      { kind: OfileKind.CKPT_OF_PIPE, flags: O_WRONLY, object: 0, end: 1 },
    ],
    data,
  });
}

const SIGINT = 2;
const SIGTERM = 15;
const sigmask = (...signals: number[]): bigint => signals.reduce((mask, signal) => mask | (1n << BigInt(signal - 1)), 0n);

/** Open file indexes of descriptorZoo(), by what they are. */
export const ZOO = {
  tty: 0,
  memfd: 1,
  deleted: 2,
  socket0: 3,
  socket1: 4,
  eventfd: 5,
  timerfd: 6,
  signalfd: 7,
  epoll: 8,
  inotify: 9,
  closedSocket: 10,
  fifo: 11,
} as const;

/** One process with a descriptor of every kind, memory objects mapped, timers, and the screen. */
export function descriptorZoo(): BuiltImage {
  const { data, at } = dataArea({
    memfd: new Uint8Array(8192).fill(0x6d),
    deleted: text('gone\n'),
    toEnd0: text('ping'),
    toEnd1: text('pong!'),
    shmem: new Uint8Array(8192).fill(0x73),
    fifo: text('queued'),
  });
  const vmas: VmaSpec[] = [
    ...DEFAULT_PROCESS.vmas,
    { start: 0x7ffe_1000_0000n, end: 0x7ffe_1000_2000n, prot: 3, kind: VmaKind.CKPT_VMA_OBJECT, flags: 1, file: 0 },
    { start: 0x7ffe_2000_0000n, end: 0x7ffe_2000_2000n, prot: 3, kind: VmaKind.CKPT_VMA_OBJECT, flags: 1, file: 3 },
  ];
  const fds = Object.values(ZOO).map((ofile) => ({ fd: ofile === 0 ? 0 : ofile + 2, ofile, cloexec: ofile > 0 }));
  return buildImage({
    pid: 6000,
    pgid: 6000,
    comm: 'zoo',
    argv: ['zoo'],
    vmas,
    fds: [{ fd: 1, ofile: 0 }, { fd: 2, ofile: 0 }, ...fds].sort((a, b) => a.fd - b.fd),
    timers: [
      { kind: TimerKind.CKPT_TIMER_POSIX, id: 0, clock: 1, notify: SigevNotify.SIGEV_SIGNAL, signo: 14, valueNs: 500_000_000n, intervalNs: 1_000_000_000n },
      { kind: TimerKind.CKPT_TIMER_POSIX, id: 1, clock: 0, notify: SigevNotify.SIGEV_THREAD_ID, signo: 34, notifyTid: 6000, valueNs: 0n },
      { kind: TimerKind.CKPT_TIMER_REAL, valueNs: 3_000_000_000n },
    ],
    objects: [
      { kind: ObjectKind.CKPT_OBJ_MEMFD, data: at.memfd, size: 8192n, mode: 0o100777, name: 'memfd:cache', seals: Seal.F_SEAL_SHRINK | Seal.F_SEAL_GROW },
      { kind: ObjectKind.CKPT_OBJ_DELETED, data: at.deleted, size: 5n, mode: 0o100600, name: '/tmp/scratch' },
      { kind: ObjectKind.CKPT_OBJ_STREAM_PAIR, data: at.toEnd0, data2: at.toEnd1 },
      { kind: ObjectKind.CKPT_OBJ_SHMEM, data: at.shmem, size: 8192n },
      { kind: ObjectKind.CKPT_OBJ_PIPE, data: at.fifo, size: 65536n, name: '/home/user/work/fifo' },
    ],
    ofiles: [
      TTY,
      { kind: OfileKind.CKPT_OF_OBJECT_FILE, flags: O_RDWR, object: 0, pos: 100n },
      { kind: OfileKind.CKPT_OF_OBJECT_FILE, flags: O_RDWR, object: 1, pos: 5n },
      { kind: OfileKind.CKPT_OF_SOCKET, flags: O_RDWR, object: 2, end: 0 },
      { kind: OfileKind.CKPT_OF_SOCKET, flags: O_RDWR, object: 2, end: 1 },
      { kind: OfileKind.CKPT_OF_EVENTFD, flags: O_RDWR, count: 3n, kindFlags: 1 },
      { kind: OfileKind.CKPT_OF_TIMERFD, flags: O_RDWR, clock: 1, valueNs: 1_500_000_000n, intervalNs: 2_000_000_000n, count: 1n },
      { kind: OfileKind.CKPT_OF_SIGNALFD, flags: O_RDWR, sigmask: sigmask(SIGINT, SIGTERM) },
      { kind: OfileKind.CKPT_OF_EPOLL, flags: O_RDWR },
      { kind: OfileKind.CKPT_OF_INOTIFY, flags: O_RDONLY },
      { kind: OfileKind.CKPT_OF_CLOSED_SOCKET, flags: O_RDWR, path: '127.0.0.1:5432' },
      { kind: OfileKind.CKPT_OF_PIPE, flags: O_RDONLY, object: 4, end: 0 },
    ],
    watches: [
      { owner: ZOO.epoll, target: ZOO.socket0, tfd: ZOO.socket0 + 2, events: EpollEvent.EPOLLIN },
      { owner: ZOO.epoll, target: ZOO.eventfd, tfd: ZOO.eventfd + 2, events: EpollEvent.EPOLLIN | EpollEvent.EPOLLET, data: 0x55n },
      { owner: ZOO.inotify, tfd: 1, events: InotifyMask.IN_MODIFY | InotifyMask.IN_CREATE, path: '/home/user/work' },
    ],
    screen: text('\x1b[H\x1b[2Jzoo> '),
    data,
  });
}

/** Every sample shape, for the fuzzers' seeds. */
export function sampleImages(): BuiltImage[] {
  return [buildImage(), buildImage({ tty: null, queued: [], sigactions: [] }), pipelineJob(), descriptorZoo()];
}
