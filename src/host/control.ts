/**
 * The host side of the control channel. The socket lives in a fresh directory that only
 * the session's user can enter (mode 0700), and every connection's peer uid is checked
 * against ours (SO_PEERCRED), so no other user — root aside — can change the key.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_LINE, parseRequest, type ControlReply, type KeyChangeRequest, type SessionKeyState, type ThawNotice } from '../base/control-protocol.js';
import { jsonLine, LineSplitter } from '../base/json-lines.js';
import { peerUid } from './native.js';

export interface ControlHandler {
  get(): SessionKeyState;
  set(change: KeyChangeRequest): void;
  thawed(notice: ThawNotice): void;
}

export class ControlServer {
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly directory: string,
    readonly socketPath: string,
  ) {}

  static listen(handler: ControlHandler): Promise<ControlServer> {
    const base = privateBase();
    const directory = mkdtempSync(join(base, 'ckpty-'));
    const socketPath = join(directory, 'control');
    const server = createServer((socket) => serve(socket, handler));
    return new Promise((resolve, reject) => {
      server.once('error', (err) => {
        rmSync(directory, { recursive: true, force: true });
        reject(err);
      });
      server.listen(socketPath, () => {
        resolve(new ControlServer(server, directory, socketPath));
        void sweepStale(base).catch(() => undefined);
      });
    });
  }

  /** Stop listening and remove the socket's directory (synchronous: also used at exit). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** A socket's directory is a session's from its start: older and with nobody listening, its session is gone. */
const STALE_AFTER_MS = 60_000;
const SOCKET_DIRECTORY = /^ckpty-[A-Za-z0-9]{6}$/;

/**
 * Removes the socket directories of this user's sessions that ended without removing
 * theirs (killed by SIGKILL, or crashed): a directory of ours, holding only its socket,
 * older than a minute, on which a connection is refused. Best effort, behind a start.
 */
export async function sweepStale(base: string): Promise<void> {
  for (const name of await readdir(base)) {
    if (!SOCKET_DIRECTORY.test(name)) continue;
    const directory = join(base, name);
    const socketPath = join(directory, 'control');
    try {
      const info = await lstat(directory);
      if (!info.isDirectory() || info.uid !== process.geteuid?.() || Date.now() - info.mtimeMs < STALE_AFTER_MS) continue;
      const entries = await readdir(directory);
      if (entries.length !== 1 || entries[0] !== 'control' || !(await lstat(socketPath)).isSocket() || !(await refused(socketPath))) continue;
      await unlink(socketPath);
      await rmdir(directory);
    } catch {
      // Gone meanwhile, or changed: left as it is.
    }
  }
}

/** Whether nobody listens on the socket (a live session accepts, and sees the connection close at once). */
function refused(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** $XDG_RUNTIME_DIR when it is ours and private (as the spec requires), else the temp dir. */
function privateBase(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime) {
    try {
      const info = statSync(runtime);
      if (info.isDirectory() && info.uid === process.geteuid?.() && (info.mode & 0o077) === 0) return runtime;
    } catch {
      // Not there: fall back.
    }
  }
  return tmpdir();
}

function serve(socket: Socket, handler: ControlHandler): void {
  socket.on('error', () => socket.destroy());
  let uid: number;
  try {
    uid = peerUid(socket);
  } catch {
    socket.destroy();
    return;
  }
  if (uid !== process.geteuid?.()) {
    socket.end(jsonLine({ ok: false, error: 'permission denied' } satisfies ControlReply));
    return;
  }
  const lines = new LineSplitter();
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    for (const line of lines.push(chunk)) socket.write(jsonLine(answer(line, handler)));
    if (lines.pendingLength > MAX_LINE) socket.destroy();
  });
  socket.on('end', () => socket.end());
}

function answer(line: string, handler: ControlHandler): ControlReply {
  const request = parseRequest(line);
  if (!request) return { ok: false, error: 'bad request' };
  if (request.op === 'set') handler.set({ ckpt: request.ckpt, pass: request.pass });
  if (request.op === 'thawed') handler.thawed({ pid: request.pid, comm: request.comm, image: request.image });
  return { ok: true, ...handler.get() };
}
