/**
 * The screen worker: a ScreenModel off the main thread, so that parsing a flood of
 * output never delays a keystroke or the output's own relay. It parses the output from
 * the shared ring (ring.ts) in place, all that has arrived at once (a flood of plain text
 * mostly left out, flood.ts); under a flood it takes the output once per frame. Requests
 * come as messages, each handled at its place in the output (its fence). Frames carry only the rows
 * that changed, at most one per FRAME_MS, and at once after a quiet spell (a keystroke's
 * echo).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ScreenModel } from './model.js';
import type { Answer, Question, Reply, Request, WorkerSetup } from './protocol.js';
import { RingReader } from './ring.js';

/** One frame at 60 Hz. */
const FRAME_MS = 16;
/** Output this large at once means a flood: take the next a frame later, in one piece. */
const FLOOD_BYTES = 32 << 10;

const port = parentPort!;
const post = (reply: Reply): void => port.postMessage(reply);
const setup = workerData as WorkerSetup;
const ring = new RingReader(setup.ring);

const model = new ScreenModel(setup, {
  reply: (data) => post({ op: 'reply', data }),
  title: (title) => post({ op: 'title', title }),
  bell: () => post({ op: 'bell' }),
});

const requests: Request[] = [];
let running = false;
let flooding = false;
let lastRun = 0;
let framesOn = false;
let changed = false;
let lastFrame = -Infinity;
let frameTimer: NodeJS.Timeout | undefined;

port.on('message', (request: Request) => {
  requests.push(request);
  schedule();
});
void watchRing();
setImmediate(() => void warmUp());

/**
 * The checkpoint key waits for a snapshot and a leave: run both once, on a model of our
 * own, while the session is idle. Cold, their code took ~3 ms of the first key's path
 * (most of it compiling), warm well under 1 ms.
 */
async function warmUp(): Promise<void> {
  const spare = new ScreenModel({ cols: 20, rows: 4, scrollback: 0 });
  spare.mark();
  await spare.write(new TextEncoder().encode('\x1b[?1049h\x1b[?1h\x1b[2;3r\x1b[1;31mcold\x1b[0m\r\n'));
  spare.repaint();
  spare.leave();
  spare.dispose();
}

/**
 * A run after every write to the ring (a run under way takes what came meanwhile). Under
 * a flood the worker looks once a frame instead: the writer then has no sleeper to wake,
 * which would cost it a system call a read.
 */
async function watchRing(): Promise<void> {
  for (let seen = ring.read; ; seen = ring.written) {
    if (flooding) await new Promise((resolve) => setTimeout(resolve, FRAME_MS));
    else await ring.whenWritten(seen);
    schedule();
  }
}

/**
 * A run at once (from idle: a keystroke's echo is parsed and framed without delay), or —
 * for what came during a run — in a later turn, so that messages and timers get theirs:
 * under a flood, a frame after the last run.
 */
function schedule(later = false): void {
  if (running) return;
  running = true;
  const wait = flooding ? lastRun + FRAME_MS - performance.now() : 0;
  if (wait > 0) setTimeout(run, wait);
  else if (later) setImmediate(run);
  else void run();
}

/** Nearer of two positions ahead of the read position (positions wrap at 2^32). */
function nearer(a: number, b: number): number {
  return ((a - ring.read) >>> 0) <= ((b - ring.read) >>> 0) ? a : b;
}

/** Parses what was written when it started (no more: a steady stream must not keep it from yielding). */
async function run(): Promise<void> {
  lastRun = performance.now();
  const limit = ring.written;
  let roomAwaited = false;
  for (;;) {
    const end = nearer(ring.end, limit);
    if (end !== ring.read) {
      const bytes = (end - ring.read) >>> 0;
      // A flood nobody watches (no frames): its last lines may wait for the next write (ScreenModel.write).
      const defer = !framesOn && bytes >= FLOOD_BYTES;
      for (const piece of ring.pieces(end)) await model.write(piece.bytes, defer, piece.nextMarked);
      roomAwaited = ring.release(end) || roomAwaited;
      flooding = bytes >= FLOOD_BYTES;
      changed = true;
    } else if (flooding) {
      // A frame's time without output: the flood is over.
      flooding = false;
      await model.flush();
    }
    // At a request's place: handle it if it has arrived (its message schedules a run), then go on.
    const next = ring.atFence ? requests.shift() : undefined;
    if (!next) break;
    await model.flush();
    handle(next);
    ring.passFence();
  }
  running = false;
  if (roomAwaited) post({ op: 'room' });
  requestFrame();
  if (ring.end !== ring.read || (ring.atFence && requests.length > 0)) schedule(true);
}

function handle(request: Request): void {
  // A frame follows every request: it tells the main thread that the screen it shows accounts for it.
  changed = true;
  switch (request.op) {
    case 'resize':
      model.resize(request.cols, request.rows);
      return;
    case 'mark':
      model.mark();
      return;
    case 'frames':
      framesOn = request.on;
      return;
    case 'scroll':
      if ('by' in request) model.scrollBy(request.by);
      else if (request.to === 'top') model.scrollToTop();
      else model.scrollToBottom();
      return;
    case 'ask':
      post({ op: 'answer', id: request.id, ...answer(request.question) });
      return;
  }
}

function answer(question: Question): Answer {
  switch (question) {
    case 'snapshot':
      return { question, value: { repaint: model.repaint(), owned: model.owned() } };
    case 'leave':
      return { question, value: model.leave() };
    case 'state':
      return { question, value: { owned: model.owned() } };
  }
}

function requestFrame(): void {
  if (!framesOn || !changed || frameTimer) return;
  const wait = lastFrame + FRAME_MS - performance.now();
  if (wait <= 0) sendFrame();
  else frameTimer = setTimeout(sendFrame, wait);
}

function sendFrame(): void {
  frameTimer = undefined;
  lastFrame = performance.now();
  changed = false;
  post({ op: 'frame', frame: model.frame(), output: ring.read, requests: ring.handled });
}
