/**
 * A ckpty session: a program (usually the user's shell) on a pty, with the checkpoint
 * key in front of the kernel's line discipline and a control channel for `stty ckpt`.
 * Front ends — plain mode, the full-screen terminal, the recorder — feed it keyboard
 * bytes with write() and render its events; none of them is part of this class.
 */
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CKPT_DEFAULT, VEOF, type Termios } from '../termios/termios.js';
import { ResidentFreezer } from '../freezer/native.js';
import { checkpointJob, foregroundJob, type ForegroundJob } from './checkpoint.js';
import { ControlServer } from './control.js';
import { SOCKET_ENV } from '../base/control-protocol.js';
import type { CheckpointAction, CheckpointOutcome, SessionEventMap } from './events.js';
import { InputPath } from './input.js';
import { InputWriter } from './input-writer.js';
import { closeDescriptorsOnExec, flushSlaveInput, foregroundPgrp, slaveQueuedInput, slaveTermios, withCoreFilesAllowed } from './native.js';
import { spawnPty, type Pty } from './pty.js';

export interface SessionOptions {
  /** The program to run, looked up in PATH. */
  file: string;
  args?: string[];
  cwd?: string;
  /** The program's environment before the session adds its own (default: ckpty's). */
  env?: NodeJS.ProcessEnv;
  cols?: number;
  rows?: number;
  /** The initial ckpt character; 0 disables the key. Default ^E. */
  key?: number;
  /** Image file name template (%N name, %P pid, %U uid, %%), relative to the process's cwd. */
  nameTemplate?: string;
  /** The key takes snapshots (the job runs on) instead of freezing. */
  snapshot?: boolean;
}

const END_INPUT_WAIT_MS = 2000;
const CTRL_D = 0x04;

/** Where the in-session `stty` lives; the session puts it first on PATH. */
export const SHIM_DIRECTORY = fileURLToPath(new URL('../../tty/', import.meta.url)).replace(/\/$/, '');

export class Session extends EventEmitter<SessionEventMap> {
  private ckpt: number;
  private size: { cols: number; rows: number };
  private readonly input: InputPath;
  private readonly writer: InputWriter;
  /** Process groups with a checkpoint in flight: another press for them is ignored. */
  private readonly busy = new Set<number>();
  /** Started with the session: a key press then costs a fork in it, not spawning a program. */
  private readonly freezer = new ResidentFreezer();
  private exited = false;

  private constructor(
    private readonly pty: Pty,
    control: ControlServer,
    private readonly options: SessionOptions,
  ) {
    super();
    this.ckpt = options.key ?? CKPT_DEFAULT;
    this.size = { cols: options.cols ?? 80, rows: options.rows ?? 24 };
    this.writer = new InputWriter(pty.masterFd);
    this.input = new InputPath({
      termios: () => this.termios(),
      foregroundPgrp: () => foregroundPgrp(pty.masterFd),
      shellPgrp: pty.pid,
      writer: this.writer,
      flushSlaveInput: () => this.flushSlaveInput(),
      checkpointKey: (pgrp, char, echo) => {
        if (echo.length > 0) this.emit('output', echo);
        this.emit('key', { pgrp, char, echo });
        void this.checkpointGroup(pgrp, this.options.snapshot ? 'snapshot' : 'freeze');
      },
    });
    // The socket's directory goes when the session ends, or with ckpty if that is first.
    const removeControl = (): void => control.close();
    process.once('exit', removeControl);
    this.freezer.start();
    pty.onData((data) => this.emit('output', data));
    pty.onExit(({ exitCode, signal }) => {
      this.exited = true;
      this.writer.discard();
      this.freezer.stop();
      process.off('exit', removeControl);
      control.close();
      const status = signal ? 128 + signal : exitCode;
      this.emit('exit', signal ? { exitCode, signal, status } : { exitCode, status });
    });
  }

  static async start(options: SessionOptions): Promise<Session> {
    // The handler is bound once the session exists; nothing can connect before the
    // program runs, and the program starts only after the socket is listening.
    let session: Session | undefined;
    const control = await ControlServer.listen({
      get: () => ({ ckpt: session?.key ?? 0, tty: session?.tty ?? '' }),
      set: (ckpt) => session?.setKey(ckpt),
      thawed: (notice) => session?.emit('thawed', notice),
    });
    const base = options.env ?? process.env;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(base)) if (value !== undefined) env[name] = value;
    env.CKPTY = '1';
    env[SOCKET_ENV] = control.socketPath;
    env.CKPTY_NODE = process.execPath;
    env.PATH = base.PATH ? `${SHIM_DIRECTORY}:${base.PATH}` : SHIM_DIRECTORY;
    // A session is a fresh terminal: descriptors ckpty inherited (or the pty masters
    // of other sessions) are not passed on, and would make every job unfreezable.
    closeDescriptorsOnExec();
    let pty: Pty;
    try {
      pty = withCoreFilesAllowed(() =>
        spawnPty({
          file: options.file,
          args: options.args ?? [],
          env,
          cwd: options.cwd ?? process.cwd(),
          cols: options.cols ?? 80,
          rows: options.rows ?? 24,
        }),
      );
    } catch (err) {
      control.close();
      throw err;
    }
    closeDescriptorsOnExec(); // the new master too
    session = new Session(pty, control, options);
    return session;
  }

  /** Process id of the program (the session leader). */
  get pid(): number {
    return this.pty.pid;
  }

  /** The slave side of the session's pty, e.g. /dev/pts/3. */
  get tty(): string {
    return this.pty.slavePath;
  }

  /** The ckpt character, 0 when disabled. */
  get key(): number {
    return this.ckpt;
  }

  get cols(): number {
    return this.size.cols;
  }

  get rows(): number {
    return this.size.rows;
  }

  setKey(ckpt: number): void {
    const previous = this.ckpt;
    if (ckpt === previous) return;
    this.ckpt = ckpt;
    this.emit('keyChanged', { ckpt, previous });
  }

  /** Keyboard input: through the checkpoint layer to the program. */
  write(input: Buffer | string): void {
    if (this.exited) return;
    const bytes = typeof input === 'string' ? Buffer.from(input) : input;
    this.emit('input', bytes);
    this.input.receive(bytes);
  }

  /**
   * The keyboard has no more to say (piped input ended): once the program has read
   * what it was sent, send it an end of file, as script(1) does. Gives up after a few
   * seconds if the program does not read, rather than glue EOF to unread input.
   */
  async endInput(): Promise<void> {
    const deadline = Date.now() + END_INPUT_WAIT_MS;
    while (!this.exited && Date.now() < deadline) {
      let queued: number;
      try {
        queued = slaveQueuedInput(this.pty.slavePath);
      } catch {
        return; // the slave is gone
      }
      if (queued === 0) {
        const eof = this.termios().cc[VEOF] || CTRL_D;
        this.write(Buffer.from([eof]));
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  resize(cols: number, rows: number): void {
    if (this.exited || (cols === this.size.cols && rows === this.size.rows)) return;
    this.size = { cols, rows };
    this.pty.resize(cols, rows);
    this.emit('resize', { cols, rows });
  }

  /** The slave's termios as the kernel holds it, with this session's ckpt. */
  termios(): Termios {
    return slaveTermios(this.pty.masterFd, this.ckpt);
  }

  /** The foreground job, or undefined when the shell itself is in the foreground. */
  foregroundJob(): ForegroundJob | undefined {
    const pgrp = this.jobPgrp();
    return pgrp === undefined ? undefined : foregroundJob(pgrp, this.pty.pid);
  }

  /**
   * Checkpoint the foreground job now, as the key would but whatever the terminal's
   * modes (for host commands such as the full-screen terminal's force-freeze).
   * Resolves to undefined when there is no job (the shell is in the foreground).
   */
  async checkpoint(action: CheckpointAction = this.options.snapshot ? 'snapshot' : 'freeze'): Promise<CheckpointOutcome | undefined> {
    const pgrp = this.jobPgrp();
    return pgrp === undefined ? undefined : this.checkpointGroup(pgrp, action);
  }

  /** Stop reading the program's output (back pressure from a slow screen). */
  pause(): void {
    this.pty.pause();
  }

  resume(): void {
    this.pty.resume();
  }

  /** Send a signal to the program (default SIGHUP, as a closing terminal does). */
  kill(signal = 'SIGHUP'): void {
    if (!this.exited) this.pty.kill(signal);
  }

  /** The foreground process group unless it is the shell's own (or the session is over). */
  private jobPgrp(): number | undefined {
    if (this.exited) return undefined;
    try {
      const pgrp = foregroundPgrp(this.pty.masterFd);
      return pgrp === this.pty.pid ? undefined : pgrp;
    } catch {
      return undefined;
    }
  }

  private flushSlaveInput(): void {
    try {
      flushSlaveInput(this.pty.slavePath);
    } catch {
      // The slave is gone: nothing is left to read it.
    }
  }

  private async checkpointGroup(pgrp: number, action: CheckpointAction): Promise<CheckpointOutcome | undefined> {
    if (this.busy.has(pgrp)) return undefined;
    this.busy.add(pgrp);
    try {
      const outcome = await checkpointJob({
        pgrp,
        leader: this.pty.pid,
        action,
        nameTemplate: this.options.nameTemplate,
        freezer: this.freezer,
      });
      if (outcome) this.announce(outcome);
      return outcome;
    } finally {
      this.busy.delete(pgrp);
    }
  }

  private announce(outcome: CheckpointOutcome): void {
    switch (outcome.kind) {
      case 'froze':
        this.emit('froze', outcome);
        return;
      case 'snapshot':
        this.emit('snapshot', outcome);
        return;
      case 'refused':
        this.emit('refused', outcome);
        return;
    }
  }
}
