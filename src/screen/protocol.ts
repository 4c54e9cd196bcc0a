/**
 * Messages between a session's Emulator (main thread) and its screen worker. The output
 * itself goes through shared memory (ring.ts), where each request has its fence: the
 * worker handles it after exactly the output written before it, so an answer reflects
 * every byte written before its request, and a mark falls on the line the prompt is on.
 */
import type { Frame, Leave, ModelOptions } from './model.js';
import type { RingMemory } from './ring.js';

export type WorkerSetup = ModelOptions & { ring: RingMemory };

export type Question = 'snapshot' | 'leave' | 'state';

export type Request =
  | { op: 'resize'; cols: number; rows: number }
  | { op: 'mark' }
  /** Send frames (the full-screen terminal paints them) or not (plain mode). */
  | { op: 'frames'; on: boolean }
  | { op: 'scroll'; by: number }
  | { op: 'scroll'; to: 'top' | 'bottom' }
  | { op: 'ask'; id: number; question: Question };

/** What the screen shows at a freeze: the bytes that paint it again, and whether a program owns it. */
export interface Snapshot {
  repaint: string;
  owned: boolean;
}

export interface ScreenState {
  /** The alternate screen, or cursor addressing since the shell's prompt. */
  owned: boolean;
}

export type Answer =
  | { question: 'snapshot'; value: Snapshot }
  | { question: 'leave'; value: Leave }
  | { question: 'state'; value: ScreenState };

export type Reply =
  /** Output the main thread held for want of room can go into the ring now. */
  | { op: 'room' }
  /** A frame, and how much it accounts for: the output up to position `output`, the first `requests` requests. */
  | { op: 'frame'; frame: Frame; output: number; requests: number }
  /** The emulator's answer to a query of the program's (DA, DSR…), for the program. */
  | { op: 'reply'; data: string }
  | { op: 'title'; title: string }
  | { op: 'bell' }
  | ({ op: 'answer'; id: number } & Answer);
