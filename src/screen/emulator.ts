/**
 * A session's screen, emulated off the main thread: the main thread copies each piece of
 * output into shared memory (ring.ts) and goes on relaying; the screen worker (worker.ts)
 * parses it, sends frames to a painter that wants them, and answers questions (the
 * repaint at a freeze, the way back to the shell's modes after one) in order with the
 * output.
 *
 * Flow control: output that does not fit in the ring (the worker is RING_BYTES behind)
 * waits here, and `flow.pause()` holds the program's output (it blocks in write(), as on
 * a slow terminal) until the worker has made room for it.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Frame, Leave, ModelOptions } from './model.js';
import type { Answer, Question, Reply, Request, ScreenState, Snapshot, WorkerSetup } from './protocol.js';
import { PrintAhead, type Ahead } from './print-ahead.js';
import { createRing, RingWriter } from './ring.js';

export interface FlowControl {
  pause(): void;
  resume(): void;
}

export interface EmulatorEvents {
  frame: [frame: Frame];
  /** Output whose effect on the view is certain before the worker parses it (print-ahead.ts): draw it now. */
  ahead: [ahead: Ahead];
  /** The emulator's answer to the program's query: for the program. */
  reply: [data: string];
  title: [title: string];
  bell: [];
  /** The worker died (a bug): the screen is not followed from now on, questions get empty answers. */
  failed: [error: Error];
}

/** The answers of a screen that is not there (ended, or failed): nothing to repaint or undo. */
const NO_SCREEN: { [Q in Question]: Extract<Answer, { question: Q }> } = {
  snapshot: { question: 'snapshot', value: { repaint: '', owned: false } },
  leave: { question: 'leave', value: { bytes: '' } },
  state: { question: 'state', value: { owned: false } },
};

/** The ring's size: a power of two (positions wrap at 2^32). */
export const RING_BYTES = 8 << 20;

/**
 * The compiled worker beside this module; from the TypeScript sources (the tests run
 * them), the compiled one in dist/ — a worker thread runs JavaScript only.
 */
function workerFile(): URL {
  const beside = new URL('./worker.js', import.meta.url);
  return existsSync(beside) ? beside : new URL('../../dist/screen/worker.js', import.meta.url);
}

export class Emulator extends EventEmitter<EmulatorEvents> {
  private readonly worker: Worker;
  private readonly ring: RingWriter;
  /** Output that did not fit in the ring yet. */
  private waiting: Uint8Array[] = [];
  private paused = false;
  private nextId = 0;
  private readonly questions = new Map<number, (answer: Answer) => void>();
  private readonly asked = new Map<number, Question>();
  private stopped = false;
  /** Requests made while output waited for room: they go after it. */
  private requests: Request[] = [];
  private size: { cols: number; rows: number };
  private readonly ahead = new PrintAhead(() => this.size.cols);

  constructor(
    options: ModelOptions,
    private readonly flow: FlowControl,
  ) {
    super();
    this.size = { cols: options.cols, rows: options.rows };
    const memory = createRing(RING_BYTES);
    this.ring = new RingWriter(memory);
    this.worker = new Worker(workerFile(), { workerData: { ...options, ring: memory } satisfies WorkerSetup });
    // A session that ends without dispose() must not be kept alive by its screen.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.receive(reply));
    this.worker.on('error', (error) => {
      this.stop();
      this.emit('failed', error);
    });
    this.worker.on('exit', () => this.stop());
  }

  get cols(): number {
    return this.size.cols;
  }

  get rows(): number {
    return this.size.rows;
  }

  write(data: Uint8Array): void {
    if (this.stopped) return;
    if (this.waiting.length === 0) {
      // Drawn before the worker is woken: on two cores, waking it first cost the echo up to half a millisecond.
      const ahead = this.ahead.write(data, this.ring.written, this.ring.fences);
      if (ahead) this.emit('ahead', ahead);
      const taken = this.ring.write(data);
      if (taken === data.length) return;
      data = data.subarray(taken);
      // Say so before looking again: room made after this is announced, room made before is found.
      this.ring.full = true;
      data = data.subarray(this.ring.write(data));
      if (data.length === 0) {
        this.ring.full = false;
        return;
      }
    }
    this.waiting.push(data);
    if (!this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
    this.post({ op: 'resize', cols, rows });
  }

  /** The shell waits at its prompt (see ScreenModel.mark). */
  mark(): void {
    this.post({ op: 'mark' });
  }

  /** Start or stop frames (the 'frame' event). */
  frames(on: boolean): void {
    this.post({ op: 'frames', on });
  }

  scrollBy(lines: number): void {
    this.post({ op: 'scroll', by: lines });
  }

  scrollTo(to: 'top' | 'bottom'): void {
    this.post({ op: 'scroll', to });
  }

  /** The screen as of every byte written so far: its repaint, and whether a program owns it. */
  snapshot(): Promise<Snapshot> {
    return this.ask('snapshot') as Promise<Snapshot>;
  }

  /** The bytes that put the terminal back as the shell had it at its prompt. */
  leave(): Promise<Leave> {
    return this.ask('leave') as Promise<Leave>;
  }

  state(): Promise<ScreenState> {
    return this.ask('state') as Promise<ScreenState>;
  }

  dispose(): void {
    this.stop();
    void this.worker.terminate();
  }

  /** No more screen: the questions waiting get NO_SCREEN's answers, and so do later ones. */
  private stop(): void {
    this.stopped = true;
    for (const [id, resolve] of this.questions) resolve(NO_SCREEN[this.asked.get(id)!]);
    this.questions.clear();
  }

  private ask(question: Question): Promise<Answer['value']> {
    if (this.stopped) return Promise.resolve(NO_SCREEN[question].value);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.questions.set(id, (answer) => resolve(answer.value));
      this.asked.set(id, question);
      this.post({ op: 'ask', id, question });
    });
  }

  /**
   * A request, to be handled after the output written before it — output still waiting
   * for room included: the request waits with it.
   */
  private post(request: Request): void {
    if (this.waiting.length > 0) {
      this.requests.push(request);
      return;
    }
    this.send(request);
  }

  private send(request: Request): void {
    this.ring.fence();
    this.worker.postMessage(request);
  }

  private receive(reply: Reply): void {
    switch (reply.op) {
      case 'room':
        this.makeRoom();
        return;
      case 'frame':
        this.emit('frame', this.ahead.frame(reply.frame, reply));
        return;
      case 'reply':
        this.emit('reply', reply.data);
        return;
      case 'title':
        this.emit('title', reply.title);
        return;
      case 'bell':
        this.emit('bell');
        return;
      case 'answer': {
        const resolve = this.questions.get(reply.id);
        this.questions.delete(reply.id);
        this.asked.delete(reply.id);
        resolve?.(reply);
        return;
      }
    }
  }

  /** The worker gave space back: what waited goes in, and the program's output flows again once it all has. */
  private makeRoom(): void {
    while (this.waiting.length > 0) {
      const piece = this.waiting[0]!;
      const taken = this.ring.write(piece);
      if (taken < piece.length) {
        this.waiting[0] = piece.subarray(taken);
        return;
      }
      this.waiting.shift();
    }
    this.ring.full = false;
    for (const request of this.requests.splice(0)) this.send(request);
    if (this.paused) {
      this.paused = false;
      this.flow.resume();
    }
  }
}
