/**
 * The line-discipline layer on the keyboard path: the checkpoint key, added in front
 * of the kernel's own line discipline.
 *
 * The kernel cannot be asked "would you treat this byte as ckpt?", so for each chunk
 * of keyboard input the layer reads the slave's REAL termios and runs the bytes
 * through the n_tty model, which keeps the state that decides it (LNEXT quoting) in
 * step with the kernel. A byte is the checkpoint key when the model says so
 * (ISIG on, not quoted, not disabled, not taken by INTR/QUIT/SUSP or IXON first).
 * Then, as docs/key.md ("What happens then") says:
 *   1. If the foreground job is the session's shell, or one the key passes through to
 *      (a shell at its prompt at any depth, emacs …: pass-list.ts), the byte goes on
 *      untouched (^E is end-of-line at a readline prompt).
 *   2. Otherwise the byte is swallowed and echoed as the kernel echoes ^\ (the model
 *      gives the exact bytes: `^E` under ECHO+ECHOCTL).
 *   3. Unless NOFLSH, typed-ahead input is flushed: the rest of the chunk, what is
 *      still queued for the master, and what the program has not read yet.
 *   4. The foreground group is handed to the session for the checkpoint.
 */
import { isCheckpointKey, LineDiscipline } from '../ldisc/ldisc.js';
import { ICANON, NOFLSH, type Termios } from '../termios/termios.js';
import type { InputWriter } from './input-writer.js';

export interface InputPathContext {
  /** The slave's current termios, with the session's ckpt character. */
  termios(): Termios;
  foregroundPgrp(): number;
  /** Whether the key is an ordinary byte for the job in `pgrp` (the session's shell, pass-list.ts). */
  passes(pgrp: number): boolean;
  /**
   * `chunk` is about to go to the program; `termios` are the slave's modes. Called
   * before it is written: once a line is written the shell may start a job at once.
   */
  typed(chunk: Buffer, termios: Termios): void;
  readonly writer: InputWriter;
  /** Discard what the program on the slave has not read yet. */
  flushSlaveInput(): void;
  /** The key was recognised for `pgrp`; `echo` is what the terminal shows for it. */
  checkpointKey(pgrp: number, char: number, echo: Buffer): void;
}

export class InputPath {
  private readonly model = new LineDiscipline();

  constructor(private readonly context: InputPathContext) {}

  receive(chunk: Buffer): void {
    const termios = this.context.termios();
    this.context.typed(chunk, termios);
    this.model.setTermios(termios);
    // LNEXT is a canonical-mode character (the model drops its state when ICANON goes
    // off), so in non-canonical mode — shells' line editors, full-screen programs,
    // pastes into them — each byte is judged alone, without running the whole model.
    const quotingPossible = (termios.lflag & ICANON) !== 0;
    let pending = 0; // start of the bytes not yet written
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      const isKey = quotingPossible ? this.model.isCheckpointKey(byte) : isCheckpointKey(termios, false, byte);
      if (!isKey) {
        if (quotingPossible) this.model.input(byte);
        continue;
      }
      const pgrp = this.foregroundPgrp();
      const events = this.model.input(byte);
      if (pgrp === undefined || this.context.passes(pgrp)) continue;

      const echo = Buffer.concat(events.flatMap((event) => (event.kind === 'echo' ? [event.bytes] : [])));
      if ((termios.lflag & NOFLSH) !== 0) {
        this.context.writer.write(chunk.subarray(pending, i));
        pending = i + 1;
      } else {
        // What came before the key in this chunk would be flushed with the rest.
        this.context.writer.discard();
        this.context.flushSlaveInput();
        pending = chunk.length;
        i = chunk.length;
      }
      this.context.checkpointKey(pgrp, byte, echo);
    }
    this.context.writer.write(chunk.subarray(pending));
  }

  /** undefined when the slave is gone (the session is ending). */
  private foregroundPgrp(): number | undefined {
    try {
      return this.context.foregroundPgrp();
    } catch {
      return undefined;
    }
  }
}
