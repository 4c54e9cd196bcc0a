/**
 * A session's screen, emulated off the main thread: the main thread hands each piece of
 * output to the screen worker (worker.ts) and goes on relaying; the worker parses it,
 * sends frames to a painter that wants them, and answers questions (the repaint at a
 * freeze, the way back to the shell's modes after one) in order with the output.
 *
 * Flow control: when the worker falls more than HIGH_WATER bytes behind, `flow.pause()`
 * holds the program's output (it blocks in write(), as on a slow terminal) until the
 * worker is below LOW_WATER again.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Frame, Leave, ModelOptions } from './model.js';
import type { Answer, Question, Reply, Request, ScreenState, Snapshot } from './protocol.js';

export interface FlowControl {
  pause(): void;
  resume(): void;
}

export interface EmulatorEvents {
  frame: [frame: Frame];
  /** The emulator's answer to the program's query: for the program. */
  reply: [data: string];
  title: [title: string];
  bell: [];
}

export const HIGH_WATER = 8 << 20;
export const LOW_WATER = 1 << 20;

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
  private posted = 0;
  private parsed = 0;
  private paused = false;
  private nextId = 0;
  private readonly waiting = new Map<number, (answer: Answer) => void>();
  private size: { cols: number; rows: number };

  constructor(
    options: ModelOptions,
    private readonly flow: FlowControl,
  ) {
    super();
    this.size = { cols: options.cols, rows: options.rows };
    this.worker = new Worker(workerFile(), { workerData: options });
    // A session that ends without dispose() must not be kept alive by its screen.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.receive(reply));
  }

  get cols(): number {
    return this.size.cols;
  }

  get rows(): number {
    return this.size.rows;
  }

  /** Output bytes not parsed yet. */
  get backlog(): number {
    return this.posted - this.parsed;
  }

  write(data: Uint8Array): void {
    // A copy of its own: the caller's buffer may be reused, and the copy's memory moves to the worker.
    const bytes = new Uint8Array(data);
    this.posted += bytes.length;
    this.post({ op: 'data', bytes }, [bytes.buffer]);
    if (!this.paused && this.backlog > HIGH_WATER) {
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
    for (const resolve of this.waiting.values()) resolve({ question: 'state', value: { owned: false } });
    this.waiting.clear();
    void this.worker.terminate();
  }

  private ask(question: Question): Promise<Answer['value']> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, (answer) => resolve(answer.value));
      this.post({ op: 'ask', id, question });
    });
  }

  private post(request: Request, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(request, transfer);
  }

  private receive(reply: Reply): void {
    switch (reply.op) {
      case 'parsed':
        this.parsed += reply.bytes;
        if (this.paused && this.backlog < LOW_WATER) {
          this.paused = false;
          this.flow.resume();
        }
        return;
      case 'frame':
        this.emit('frame', reply.frame);
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
        const resolve = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        resolve?.(reply);
        return;
      }
    }
  }
}
