/**
 * The screen worker: a ScreenModel off the main thread, so that parsing a flood of
 * output never delays a keystroke or the output's own relay. Output that arrives while it
 * is busy is parsed in one piece (and a flood of plain text mostly left out, flood.ts);
 * under a flood it takes the output once per frame. Frames carry only the rows that
 * changed, at most one per FRAME_MS, and at once after a quiet spell (a keystroke's echo).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ScreenModel } from './model.js';
import type { Answer, Question, Reply, Request, WorkerSetup } from './protocol.js';

/** One frame at 60 Hz. */
const FRAME_MS = 16;
/** A batch this large means a flood: take the next one a frame later, in one piece. */
const FLOOD_BYTES = 32 << 10;

const port = parentPort!;
const post = (reply: Reply): void => port.postMessage(reply);

const model = new ScreenModel(workerData as WorkerSetup, {
  reply: (data) => post({ op: 'reply', data }),
  title: (title) => post({ op: 'title', title }),
  bell: () => post({ op: 'bell' }),
});

const queue: Request[] = [];
let running = false;
let flooding = false;
let lastRun = 0;
let framesOn = false;
let changed = false;
let lastFrame = -Infinity;
let frameTimer: NodeJS.Timeout | undefined;

port.on('message', (request: Request) => {
  queue.push(request);
  schedule();
});

function schedule(): void {
  if (running) return;
  running = true;
  const wait = flooding ? lastRun + FRAME_MS - performance.now() : 0;
  if (wait > 0) setTimeout(run, wait);
  else setImmediate(run);
}

async function run(): Promise<void> {
  lastRun = performance.now();
  let parsed = 0;
  for (let request = queue.shift(); request; request = queue.shift()) {
    if (request.op !== 'data') {
      handle(request);
      continue;
    }
    const batch = takeData(request.bytes);
    await model.write(batch);
    parsed += batch.length;
    flooding = batch.length >= FLOOD_BYTES;
    changed = true;
  }
  if (parsed > 0) post({ op: 'parsed', bytes: parsed });
  running = false;
  requestFrame();
}

/** `first` and the data requests after it at the head of the queue, as one piece. */
function takeData(first: Uint8Array): Uint8Array {
  const pieces = [first];
  for (let next = queue[0]; next?.op === 'data'; next = queue[0]) {
    pieces.push(next.bytes);
    queue.shift();
  }
  return pieces.length === 1 ? first : Buffer.concat(pieces);
}

function handle(request: Exclude<Request, { op: 'data' }>): void {
  switch (request.op) {
    case 'resize':
      model.resize(request.cols, request.rows);
      changed = true;
      return;
    case 'mark':
      model.mark();
      return;
    case 'frames':
      framesOn = request.on;
      changed = true;
      return;
    case 'scroll':
      if ('by' in request) model.scrollBy(request.by);
      else if (request.to === 'top') model.scrollToTop();
      else model.scrollToBottom();
      changed = true;
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
  post({ op: 'frame', frame: model.frame() });
}
