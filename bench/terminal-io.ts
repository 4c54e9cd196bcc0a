/**
 * What the session host costs at the terminal (docs/testing.md, "Benchmarks"):
 *  - keystroke round trip: a byte typed at the outermost side until the program's echo
 *    of it comes back out (the program is `cat` under `stty raw -echo`, so the echo is
 *    the program's answer, not the kernel's), p50 / p99;
 *  - output throughput: `cat` of a file until its last byte (a marker after it) is out.
 * Paths: bare node-pty and a ckpty Session, both in this process; then, each behind an
 * outer pty as a user runs it, a bare node-pty relay process (bench/relay.ts), plain mode
 * (`ckpty shell`), the full-screen terminal (`ckpty`) and tmux.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as nodePty from 'node-pty';
import { BUILD_DIR, CLI, type BenchContext, type Features } from './lib/context.js';
import { Session } from './lib/ckpty.js';
import { track, untrack } from './lib/cleanup.js';
import { killSession } from './lib/proc.js';
import { PtyProcess } from './lib/pty.js';
import { inRotation, Results, type Row } from './lib/results.js';
import { latency } from './lib/stats.js';
import { subjectEnv } from './lib/subjects.js';

const MIB = 1 << 20;
const COLS = 80;
const ROWS = 24;

/** Scans a byte stream for a marker, across chunk boundaries. */
class MarkerScanner {
  private readonly marker: Buffer;
  private tail: Buffer = Buffer.alloc(0);

  constructor(marker: string) {
    this.marker = Buffer.from(marker);
  }

  feed(chunk: Buffer): boolean {
    const edge = Buffer.concat([this.tail, chunk.subarray(0, this.marker.length - 1)]);
    const found = edge.indexOf(this.marker) >= 0 || chunk.indexOf(this.marker) >= 0;
    const keep = this.marker.length - 1;
    this.tail = chunk.length >= keep ? chunk.subarray(chunk.length - keep) : Buffer.concat([this.tail, chunk]).subarray(-keep);
    return found;
  }
}

type Listener = (chunk: Buffer) => void;

/** A program reachable by writing keys and reading output. */
interface Endpoint {
  name: string;
  write(data: string): void;
  /** Calls `fn` with each chunk of output until the returned function is called. */
  listen(fn: Listener): () => void;
  close(): Promise<void>;
}

/** Resolves to performance.now() when `marker` has come out of the endpoint. */
function nextMarker(endpoint: Endpoint, marker: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const scanner = new MarkerScanner(marker);
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no "${marker}" from ${endpoint.name} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const stop = endpoint.listen((chunk) => {
      if (!scanner.feed(chunk)) return;
      const at = performance.now();
      clearTimeout(timer);
      stop();
      resolve(at);
    });
  });
}

function ptyEndpoint(name: string, pty: PtyProcess): Endpoint {
  pty.buffering = false;
  return {
    name,
    write: (data) => pty.write(data),
    listen(fn) {
      const listener = { onData: fn };
      pty.listeners.add(listener);
      return () => pty.listeners.delete(listener);
    },
    close: () => pty.close(),
  };
}

/** Listeners on an emitter-like source, with one unlisten function. */
function fanOut(): { emit: Listener; listen: Endpoint['listen'] } {
  const listeners = new Set<Listener>();
  return {
    emit: (chunk) => {
      for (const fn of listeners) fn(chunk);
    },
    listen(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

/** A way for a terminal's bytes to go: `start(script)` runs `sh SCRIPT` behind it. */
interface TerminalPath {
  label: string;
  /** How the compare column names it. */
  short?: string;
  /** The tool it needs. */
  needs?: keyof Features;
  /** The paths it is compared with. */
  vs: string[];
  start(script: string): Endpoint | Promise<Endpoint>;
}

function paths(ctx: BenchContext): Record<string, TerminalPath> {
  const env = subjectEnv();
  const outer = (name: string, file: string, args: string[]): Endpoint =>
    ptyEndpoint(name, new PtyProcess(file, args, { cols: COLS, rows: ROWS, env, cwd: ctx.workDir }));
  // A socket of its own in the work dir: no other tmux is touched, and nothing stays behind.
  const tmuxSocket = join(ctx.workDir, 'tmux.sock');
  const tmux = ctx.features.tmux.path ?? 'tmux';
  return {
    'node-pty': {
      label: 'bare node-pty (in-process)',
      short: 'node-pty',
      vs: [],
      start(script) {
        const term = nodePty.spawn('sh', [script], { name: 'xterm-256color', cols: COLS, rows: ROWS, cwd: ctx.workDir, env, encoding: null });
        track.session(term.pid);
        const out = fanOut();
        // Bytes: with encoding null node-pty hands out Buffers (its typings say string).
        term.onData((data) => out.emit(data as unknown as Buffer));
        return {
          name: 'node-pty',
          write: (data) => term.write(data),
          listen: out.listen,
          close: async () => {
            killSession(term.pid);
            untrack.session(term.pid);
          },
        };
      },
    },
    session: {
      label: 'ckpty Session (in-process)',
      vs: ['node-pty'],
      async start(script) {
        const session = await Session.start({ file: 'sh', args: [script], cols: COLS, rows: ROWS, cwd: ctx.workDir, env });
        track.session(session.pid);
        const out = fanOut();
        session.on('output', out.emit);
        return {
          name: 'Session',
          write: (data) => session.write(data),
          listen: out.listen,
          close: async () => {
            const exited = new Promise((resolve) => session.once('exit', resolve));
            killSession(session.pid);
            untrack.session(session.pid);
            await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
          },
        };
      },
    },
    relay: {
      label: 'bare node-pty relay (bench/relay.ts)',
      short: 'relay',
      vs: [],
      start: (script) => outer('relay', process.execPath, [join(BUILD_DIR, 'relay.js'), 'sh', script]),
    },
    shell: {
      label: 'ckpty shell (plain mode)',
      vs: ['relay', 'tmux'],
      start: (script) => outer('ckpty shell', CLI, ['shell', '--quiet', '--', 'sh', script]),
    },
    fullscreen: {
      label: 'ckpty (full-screen)',
      vs: ['relay', 'tmux'],
      start: (script) => outer('ckpty full-screen', CLI, ['--shell', script]),
    },
    tmux: {
      label: 'tmux',
      needs: 'tmux',
      short: 'tmux',
      vs: ['relay'],
      start(script) {
        const endpoint = outer('tmux', tmux, ['-S', tmuxSocket, '-f', '/dev/null', 'new-session', '-x', String(COLS), '-y', String(ROWS), 'sh', script]);
        // The tmux server leaves the pty's session: it is ended through its socket.
        const killServer = (): void => void spawnSync(tmux, ['-S', tmuxSocket, 'kill-server'], { stdio: 'ignore' });
        track.hook(killServer);
        return {
          ...endpoint,
          close: async () => {
            killServer();
            untrack.hook(killServer);
            await endpoint.close();
          },
        };
      },
    },
  };
}

/** An executable script in the work dir (the full-screen terminal runs a program without arguments). */
function writeScript(ctx: BenchContext, name: string, body: string): string {
  const path = join(ctx.workDir, name);
  writeFileSync(path, `#!/bin/sh\n${body}`);
  chmodSync(path, 0o755);
  return path;
}

function rowsFor(ctx: BenchContext, section: 'keys' | 'throughput'): { path: TerminalPath; row: Row }[] {
  const kind = section === 'keys' ? 'latency' : 'throughput';
  const all = paths(ctx);
  return Object.entries(all).map(([key, path]) => {
    const row = ctx.results.row(`${section}/${key}`, {
      section,
      subject: section === 'keys' ? 'cat, raw mode' : `cat ${ctx.throughputMib} MiB`,
      method: path.label,
      short: path.short ?? path.label,
      kind,
      unit: kind === 'latency' ? 'ms' : 'MiB/s',
      vs: path.vs.map((base) => `${section}/${base}`),
    });
    const missing = path.needs && ctx.features[path.needs].reason;
    if (missing) Results.unavailable(row, missing);
    return { path, row };
  });
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The program's answer to one typed byte; resolves to the ms it took. */
async function keystroke(endpoint: Endpoint): Promise<number> {
  const answer = nextMarker(endpoint, 'z', 10_000);
  const sent = performance.now();
  endpoint.write('z');
  return (await answer) - sent;
}

/**
 * Keys go round robin to every path, all started at once: a noisy moment of the machine
 * (its cores are shared) then spoils one key of each path, not the tail of one path only.
 * Each path still gets a key at most every 30 ms — faster than anyone types, but past the
 * full-screen terminal's 16 ms frame clock (which renders a key after a pause at once).
 */
const KEY_INTERVAL_MS = 30;
const SETTLE_MS = 3;

interface LivePath {
  row: Row;
  endpoint: Endpoint;
  samples: number[];
  /** When its last key was typed. */
  sent: number;
}

export async function runKeystrokeBench(ctx: BenchContext): Promise<void> {
  // The program answers each byte itself; the kernel's echo is off.
  const script = writeScript(ctx, 'keys.sh', 'stty raw -echo\necho BENCH_KEYS_READY\nexec cat\n');
  const perRep = ctx.quick ? 20 : 100;
  for (let rep = 0; rep < ctx.reps; rep++) {
    const live: LivePath[] = [];
    try {
      for (const { path, row } of inRotation(rowsFor(ctx, 'keys'), rep)) {
        if (!Results.open(row)) continue;
        try {
          const endpoint = await path.start(script);
          live.push({ row, endpoint, samples: [], sent: 0 });
          await nextMarker(endpoint, 'BENCH_KEYS_READY', 30_000);
        } catch (err) {
          Results.fail(row, err);
        }
      }
      // Let start-up output (full-screen first paint, tmux status line) finish.
      await pause(200);
      for (let i = 0; i < perRep; i++) {
        for (const entry of inRotation(live, i)) {
          if (!Results.open(entry.row)) continue;
          // A few ms after the previous path's answer, so its screen work is done too.
          await pause(Math.max(SETTLE_MS, entry.sent + KEY_INTERVAL_MS - performance.now()));
          entry.sent = performance.now();
          try {
            entry.samples.push(await keystroke(entry.endpoint));
          } catch (err) {
            Results.fail(entry.row, err);
          }
        }
      }
      // All samples of all repetitions form the distribution (p99 needs the count);
      // each repetition's own p50 shows the spread between runs.
      for (const { row, samples } of live) if (Results.open(row)) Results.record(row, { values: samples, detail: latency(samples) });
    } finally {
      for (const { endpoint } of live) await endpoint.close();
    }
    ctx.progress();
  }
}

export async function runThroughputBench(ctx: BenchContext): Promise<void> {
  const file = join(ctx.workDir, 'output.txt');
  if (!existsSync(file)) {
    // Terminal-like text: 79 printable characters and a newline per line.
    const line = `${'ckpty bench output line '.repeat(4).slice(0, 79)}\n`;
    const chunk = Buffer.from(line.repeat(MIB / 80 + 1)).subarray(0, MIB);
    writeFileSync(file, '');
    for (let i = 0; i < ctx.throughputMib; i++) writeFileSync(file, chunk, { flag: 'a' });
  }
  const script = writeScript(ctx, 'throughput.sh', `stty -echo\necho BENCH_BEGIN\nread go\ncat '${file}'\necho BENCH_END\nexec sleep 600\n`);
  for (let rep = 0; rep < ctx.reps; rep++) {
    for (const { path, row } of inRotation(rowsFor(ctx, 'throughput'), rep)) {
      await ctx.results.attempt(row, async () => {
        const endpoint = await path.start(script);
        try {
          await nextMarker(endpoint, 'BENCH_BEGIN', 30_000);
          await pause(300);
          const done = nextMarker(endpoint, 'BENCH_END', 300_000);
          const started = performance.now();
          endpoint.write('\r');
          const seconds = ((await done) - started) / 1000;
          return { value: ctx.throughputMib / seconds };
        } finally {
          await endpoint.close();
        }
      });
    }
    ctx.progress();
  }
}
