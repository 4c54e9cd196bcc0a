/**
 * The control channel between a session host and the programs inside its session (the
 * `stty` shim, `ckpty thaw`): JSON lines over the Unix socket named by $CKPTY_SOCKET.
 * One request per line, one reply per line. The host serves it (host/control.ts); this
 * module is the client side too, so the shim loads nothing heavier than `net`.
 */
import { connect } from 'node:net';
import { jsonLine, LineSplitter } from './json-lines.js';

/** Names the session's control socket in the environment of everything in the session. */
export const SOCKET_ENV = 'CKPTY_SOCKET';

/** What `ckpty thaw` inside a session tells its host once the program is rebuilt. */
export interface ThawNotice {
  pid: number;
  comm: string;
  image: string;
}

/** A change of the session's key settings: its ckpt character, the programs it passes through to. */
export interface KeyChangeRequest {
  ckpt?: number;
  pass?: string[];
}

export type ControlRequest = { op: 'get' } | ({ op: 'set' } & KeyChangeRequest) | ({ op: 'thawed' } & ThawNotice);

/** The session's state: its ckpt character (0 when disabled), its pass list and its terminal. */
export interface SessionKeyState {
  ckpt: number;
  /** Programs the key passes through to (src/host/pass-list.ts). */
  pass: string[];
  /** The slave side of the session's pty, e.g. /dev/pts/3. */
  tty: string;
}

export type ControlReply = ({ ok: true } & SessionKeyState) | { ok: false; error: string };

/** Longest line either side accepts; requests and replies are a few dozen bytes. */
export const MAX_LINE = 4096;

export function parseRequest(line: string): ControlRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const request = value as { op?: unknown; ckpt?: unknown; pass?: unknown; pid?: unknown; comm?: unknown; image?: unknown };
  if (request.op === 'get') return { op: 'get' };
  const { pid, comm, image } = request;
  if (
    request.op === 'thawed' &&
    typeof pid === 'number' && Number.isInteger(pid) && pid > 0 &&
    typeof comm === 'string' && comm.length <= 64 &&
    typeof image === 'string' && image.length <= MAX_LINE / 2
  ) {
    return { op: 'thawed', pid, comm, image };
  }
  if (request.op !== 'set') return undefined;
  const { ckpt, pass } = request;
  const validKey = typeof ckpt === 'number' && Number.isInteger(ckpt) && ckpt >= 0 && ckpt <= 0xff;
  const validPass = Array.isArray(pass) && pass.length <= 256 && pass.every((name) => typeof name === 'string' && name.length <= 64);
  if ((ckpt !== undefined && !validKey) || (pass !== undefined && !validPass) || (ckpt === undefined && pass === undefined)) return undefined;
  return { op: 'set', ...(validKey && { ckpt }), ...(validPass && { pass: pass as string[] }) };
}

/** Send requests in order over one connection and collect the replies. */
export function askHost(socketPath: string, requests: ControlRequest[]): Promise<ControlReply[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const replies: ControlReply[] = [];
    const lines = new LineSplitter();
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(requests.map(jsonLine).join('')));
    socket.on('data', (chunk: string) => {
      try {
        for (const line of lines.push(chunk)) replies.push(JSON.parse(line) as ControlReply);
      } catch {
        socket.destroy(new Error('the session sent a reply that is not JSON'));
        return;
      }
      if (lines.pendingLength > MAX_LINE) socket.destroy(new Error('reply too long'));
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (replies.length === requests.length) resolve(replies);
      else reject(new Error('the session closed the connection'));
    });
  });
}
