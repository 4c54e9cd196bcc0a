/**
 * The user's own terminal around the full-screen one: its keyboard is read raw, and
 * it is watched for going away. Every listener added here, to the process and to the
 * terminal's streams, is removed by detach(), whichever way the session ends.
 */
import { onEndingSignal } from '../base/hang-up.js';

export interface OuterTerminalHandlers {
  /** Keyboard bytes, read raw. */
  keys(data: Buffer): void;
  /** SIGTERM or SIGINT: end the session, and ckpty with `status` (128 + the signal). */
  terminate(status: number): void;
  /** The terminal hung up (SIGHUP, end of file or EIO on it); called once. */
  hungUp(): void;
}

/** The outer terminal's streams: process.stdin and process.stdout, stand-ins in tests. */
export interface OuterStreams {
  stdin: NodeJS.EventEmitter & { setRawMode(raw: boolean): unknown; resume(): unknown; pause(): unknown };
  stdout: NodeJS.EventEmitter;
}

export class OuterTerminal {
  private gone = false;
  private stopSignals: (() => void) | undefined;

  constructor(
    private readonly handlers: OuterTerminalHandlers,
    private readonly streams: OuterStreams = process,
  ) {}

  /** The terminal hung up: draw nothing more on it, and leave its modes alone. */
  get hungUp(): boolean {
    return this.gone;
  }

  attach(): void {
    const { stdin, stdout } = this.streams;
    stdin.setRawMode(true);
    stdin.on('data', this.handlers.keys);
    stdin.resume();
    this.stopSignals = onEndingSignal(this.handlers.terminate);
    process.on('SIGHUP', this.lost);
    // A hung-up terminal reads as end of file (or EIO) and fails writes with EIO.
    stdin.on('end', this.lost);
    stdin.on('error', this.lost);
    stdout.on('error', this.lost);
  }

  /** Removes every listener attach() added, and gives a terminal that is still there its modes back. */
  detach(): void {
    const { stdin, stdout } = this.streams;
    stdin.off('data', this.handlers.keys);
    this.stopSignals?.();
    process.off('SIGHUP', this.lost);
    stdin.off('end', this.lost);
    stdin.off('error', this.lost);
    stdout.off('error', this.lost);
    if (this.gone) return;
    stdin.setRawMode(false);
    stdin.pause();
  }

  private readonly lost = (): void => {
    if (this.gone) return;
    this.gone = true;
    this.handlers.hungUp();
  };
}
