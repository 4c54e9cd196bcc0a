/**
 * A ckpty session: a program (usually the user's shell) on a pty, with the checkpoint
 * key in front of the kernel's line discipline, a control channel for `stty ckpt`, and
 * the screen the program draws, emulated off the main thread (screen/emulator.ts): a
 * freeze stores it in the image and afterwards puts the terminal back as the shell had
 * it. Front ends — plain mode, the full-screen terminal, the recorder — feed it keyboard
 * bytes with write() and render its events; none of them is part of this class.
 */
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CKPT_DEFAULT, VEOF, type Termios } from '../termios/termios.js';
import { formatGnuSaved } from '../termios/stty.js';
import { ResidentFreezer } from '../freezer/native.js';
import { rehearseReport } from '../freezer/freeze.js';
import { waitsForInput } from '../freezer/proc.js';
import { Emulator } from '../screen/emulator.js';
import { checkpointJob, foregroundJob, jobProcesses, seeJob, soleProgram, type ForegroundJob, type JobSeen } from './checkpoint.js';
import { ControlServer } from './control.js';
import { SOCKET_ENV, type ThawNotice } from '../base/control-protocol.js';
import type { CheckpointAction, CheckpointOutcome, SessionEventMap } from './events.js';
import { InputPath } from './input.js';
import { InputWriter } from './input-writer.js';
import { DEFAULT_PASS, matchesList, SHELLS } from './pass-list.js';
import { ShellModes } from './shell-modes.js';
import {
  closeDescriptorsOnExec,
  flushSlaveInput,
  foregroundPgrp,
  slaveQueuedInput,
  slaveTermios,
  stopSlaveOutput,
  unreadOutput,
  withCoreFilesAllowed,
} from './native.js';
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
  /** Programs the key passes through to (pass-list.ts); default DEFAULT_PASS. */
  pass?: readonly string[];
  /** Lines of history the screen keeps (the full-screen terminal browses them); default 0. */
  scrollback?: number;
}

/** How long endInput looks often for the program to wait for input; then 4 times a second. */
const END_INPUT_QUICK_MS = 2000;
const CTRL_D = 0x04;
const CR = 0x0d;
const LF = 0x0a;
/** How long a process group's "a shell at its prompt" holds for keystrokes (a key press looks again). */
const PROMPT_CHECK_MS = 300;
/** A program that ignores hangUp()'s SIGHUP (a shell with `trap '' HUP`) gets SIGKILL after this long. */
const HANG_UP_GRACE_MS = 2000;
/** How long a checkpoint waits for the output the job wrote before it to be read (unless held by a front end). */
const DRAIN_MS = 500;

/** Why reading the program's output is held: a front end's back pressure, the screen's. */
type Hold = 'front' | 'screen';

/** Where the in-session `stty` lives; the session puts it first on PATH. */
export const SHIM_DIRECTORY = fileURLToPath(new URL('../../tty/', import.meta.url)).replace(/\/$/, '');

export class Session extends EventEmitter<SessionEventMap> {
  private ckpt: number;
  private size: { cols: number; rows: number };
  private readonly input: InputPath;
  private readonly writer: InputWriter;
  /** Process groups with a checkpoint in flight: another press for them is ignored. */
  private readonly busy = new Set<number>();
  /** Started with the session: a key press then wakes a child of it, not spawning a program. */
  private readonly freezer = new ResidentFreezer();
  private exited = false;
  /** hangUp()'s SIGKILL for a program that outlives its SIGHUP. */
  private forceKill: NodeJS.Timeout | undefined;
  /** The pty's master is closed (pty.ts, onClose), before the exit: nothing more goes to it. */
  private closed = false;
  /** The screen the program draws. */
  readonly screen: Emulator;
  private readonly shellModes = new ShellModes();
  private passList: string[];
  private readonly holds = new Set<Hold>();
  private promptCheck: { pgrp: number; at: number; prompt: boolean } | undefined;
  /** The job the key's check just looked at (InputPath's passes), for the freeze that follows. */
  private keyJob: { pgrp: number; seen: JobSeen } | undefined;

  private constructor(
    private readonly pty: Pty,
    control: ControlServer,
    private readonly options: SessionOptions,
  ) {
    super();
    this.ckpt = options.key ?? CKPT_DEFAULT;
    this.size = { cols: options.cols ?? 80, rows: options.rows ?? 24 };
    this.passList = [...(options.pass ?? DEFAULT_PASS)];
    this.screen = new Emulator(
      { ...this.size, scrollback: options.scrollback ?? 0 },
      { pause: () => this.hold('screen'), resume: () => this.release('screen') },
    );
    this.writer = new InputWriter(pty.masterFd);
    this.input = new InputPath({
      termios: () => this.termios(),
      foregroundPgrp: () => foregroundPgrp(pty.masterFd),
      passes: (pgrp) => {
        if (pgrp === pty.pid) return true;
        const { seen, sole } = this.seeJob(pgrp);
        // Kept for the freeze that follows at once when the key does not pass.
        this.keyJob = { pgrp, seen };
        return sole;
      },
      typed: (chunk, termios) => this.typed(chunk, termios),
      writer: this.writer,
      flushSlaveInput: () => this.flushSlaveInput(),
      checkpointKey: (pgrp, char, echo) => {
        const seen = this.keyJob?.pgrp === pgrp ? this.keyJob.seen : undefined;
        this.keyJob = undefined;
        // The freezer's request is written first; the echo is shown while it works.
        void this.checkpointGroup(pgrp, this.options.snapshot ? 'snapshot' : 'freeze', seen);
        if (echo.length > 0) this.show(echo);
        this.emit('key', { pgrp, char, echo });
      },
    });
    // The socket's directory goes when the session ends, or with ckpty if that is first.
    const removeControl = (): void => control.close();
    process.once('exit', removeControl);
    this.freezer.start();
    // The key's first look at the job (passes, above) runs cold otherwise: ~2 ms of
    // compiling and first calls. It looks at the shell's own group once instead, and
    // the freezer's report is read once (rehearseReport).
    setImmediate(() => {
      if (this.closed) return;
      foregroundPgrp(pty.masterFd);
      this.seeJob(pty.pid);
      rehearseReport();
    });
    pty.onData((data) => this.show(data));
    pty.onClose(() => {
      this.closed = true;
      this.writer.discard();
    });
    pty.onExit(({ exitCode, signal }) => {
      this.exited = true;
      clearTimeout(this.forceKill);
      this.freezer.stop();
      this.screen.dispose();
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
      get: () => ({ ckpt: session?.key ?? 0, tty: session?.tty ?? '', pass: [...(session?.pass ?? [])] }),
      set: (change) => {
        if (change.ckpt !== undefined) session?.setKey(change.ckpt);
        if (change.pass !== undefined) session?.setPass(change.pass);
      },
      thawed: (notice) => session?.thawed(notice),
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

  /** The programs the key passes through to. */
  get pass(): readonly string[] {
    return this.passList;
  }

  setPass(list: readonly string[]): void {
    this.passList = [...list];
  }

  setKey(ckpt: number): void {
    const previous = this.ckpt;
    if (ckpt === previous) return;
    this.ckpt = ckpt;
    this.emit('keyChanged', { ckpt, previous });
  }

  /** Keyboard input: through the checkpoint layer to the program. */
  write(input: Buffer | string): void {
    if (this.closed) return;
    const bytes = typeof input === 'string' ? Buffer.from(input) : input;
    this.emit('input', bytes);
    this.input.receive(bytes);
  }

  /**
   * The keyboard has no more to say (piped input ended): once the program has read
   * what it was sent and waits for more, send it an end of file, as script(1) does, and
   * one more to each job (or the shell) that waits in front after it, as a pipe would
   * give every later reader its end of file (`printf 'cat\nhello\n' | ckpty shell`: cat
   * ends, then the shell). One each: a program that reads on after its end of file
   * (IGNOREEOF, a REPL's "use exit()") is not sent one for ever.
   * Not before it waits: an end of file that the kernel takes in canonical mode and the
   * program reads after switching to raw mode (bash between a command and its next
   * prompt) arrives as a NUL byte, and the shell would wait for ever. Never, if the
   * program does not read what it was sent: EOF is not glued to unread input.
   */
  async endInput(): Promise<void> {
    const ended = new Set<number>(); // process groups sent their end of file
    let started = Date.now();
    let waiting = 0; // looks in a row that found the same group waiting
    let last: number | undefined;
    while (!this.closed) {
      let queued: number;
      let pgrp: number;
      try {
        queued = slaveQueuedInput(this.pty.slavePath);
        pgrp = foregroundPgrp(this.pty.masterFd);
      } catch {
        return; // the slave is gone
      }
      const waits = queued === 0 && !ended.has(pgrp) && this.waitsForInput(pgrp);
      waiting = waits && pgrp === last ? waiting + 1 : waits ? 1 : 0;
      last = pgrp;
      // Twice, a few ms apart: not a read passed through on the way to a mode switch.
      if (waiting >= 2) {
        const eof = this.termios().cc[VEOF] || CTRL_D;
        this.write(Buffer.from([eof]));
        ended.add(pgrp);
        waiting = 0;
        started = Date.now();
      }
      const pause = Date.now() - started < END_INPUT_QUICK_MS ? 20 : 250;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** Whether a process of the group (the foreground job or the shell) waits for input; yes when that is not ours to see. */
  private waitsForInput(pgrp: number): boolean {
    return jobProcesses(pgrp, this.pty.pid).some((member) => waitsForInput(member) !== false);
  }

  resize(cols: number, rows: number): void {
    if (this.closed || (cols === this.size.cols && rows === this.size.rows)) return;
    this.size = { cols, rows };
    this.pty.resize(cols, rows);
    this.screen.resize(cols, rows);
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
    this.hold('front');
  }

  resume(): void {
    this.release('front');
  }

  /** Whether the foreground job is a shell waiting at its prompt (the session's, or one at any depth). */
  shellAtPrompt(): boolean {
    if (this.closed) return false;
    try {
      return this.atPrompt(foregroundPgrp(this.pty.masterFd));
    } catch {
      return false;
    }
  }

  /** Send a signal to the program (default SIGHUP, as a closing terminal does). */
  kill(signal = 'SIGHUP'): void {
    if (!this.exited) this.pty.kill(signal);
  }

  /** End the program as closing its terminal does: SIGHUP, then SIGKILL if it ignores that. */
  hangUp(): void {
    this.kill('SIGHUP');
    clearTimeout(this.forceKill);
    this.forceKill = setTimeout(() => this.kill('SIGKILL'), HANG_UP_GRACE_MS).unref();
  }

  /** The foreground process group unless it is the shell's own (or the session is over). */
  private jobPgrp(): number | undefined {
    if (this.closed) return undefined;
    try {
      const pgrp = foregroundPgrp(this.pty.masterFd);
      return pgrp === this.pty.pid ? undefined : pgrp;
    } catch {
      return undefined;
    }
  }

  /**
   * Bytes for the screen: to the front ends, then to the emulator. In that order because
   * the emulator's write may wake its worker, which on two cores cost the relayed output
   * up to half a millisecond when it came first.
   */
  private show(data: Buffer): void {
    this.emit('output', data);
    this.screen.write(data);
  }

  private hold(reason: Hold): void {
    if (this.holds.size === 0) this.pty.pause();
    this.holds.add(reason);
  }

  private release(reason: Hold): void {
    if (!this.holds.delete(reason) || this.holds.size > 0) return;
    this.pty.resume();
  }

  /**
   * Keys are going to the program. A line entered at a shell's prompt (CR or LF) may
   * start a job, which begins from that prompt's line and modes: the screen marks them
   * (repaint and leave at a freeze), and the terminal modes are what a frozen job leaves
   * for it. Looked at before the line is written: under load the shell could otherwise
   * have started the job (and given it the terminal) before we ask whose turn it is.
   */
  private typed(chunk: Buffer, termios: Termios): void {
    if (!chunk.includes(CR) && !chunk.includes(LF)) return;
    let pgrp: number;
    try {
      pgrp = foregroundPgrp(this.pty.masterFd);
    } catch {
      return;
    }
    if (!this.atPrompt(pgrp)) return;
    this.shellModes.sample(termios);
    this.screen.mark();
  }

  /** A look at the job, and whether the key passes through to it (a single program on the pass list). */
  private seeJob(pgrp: number): { seen: JobSeen; sole: boolean } {
    return seeJob(pgrp, this.pty.pid, (names) => matchesList(this.passList, names));
  }

  /** The session's shell, or a shell that is its job's only process (checked again after PROMPT_CHECK_MS). */
  private atPrompt(pgrp: number): boolean {
    if (pgrp === this.pty.pid) return true;
    const now = performance.now();
    const last = this.promptCheck;
    if (last && last.pgrp === pgrp && now - last.at < PROMPT_CHECK_MS) return last.prompt;
    const prompt = matchesList(SHELLS, soleProgram(jobProcesses(pgrp, this.pty.pid)) ?? []);
    this.promptCheck = { pgrp, at: now, prompt };
    return prompt;
  }

  /** A `ckpty thaw` in the session has rebuilt its program: the program's lines start below its thaw line. */
  private thawed(notice: ThawNotice): void {
    this.screen.mark();
    this.emit('thawed', notice);
  }

  private flushSlaveInput(): void {
    try {
      flushSlaveInput(this.pty.slavePath);
    } catch {
      // The slave is gone: nothing is left to read it.
    }
  }

  /**
   * While the job is checkpointed the terminal's output is stopped (as by ^S): the job's
   * writes wait, so the screen stored in the image is everything the job wrote before it
   * was frozen; and after a freeze, the bytes that put the terminal back as the shell had
   * it (and the status) come before anything the shell prints once its job has ended.
   * The freezer's request goes first, before the output is stopped and read to its end:
   * the freezer needs longer to reach the job than this does to drain it. The screen
   * follows once the job's last output is painted (the freezer reads it once it has
   * written the job's memory).
   */
  private async checkpointGroup(
    pgrp: number,
    action: CheckpointAction,
    seen?: JobSeen,
  ): Promise<CheckpointOutcome | undefined> {
    if (this.busy.has(pgrp)) return undefined;
    this.busy.add(pgrp);
    try {
      // Snapshot and leave asked together (one trip to the screen worker): the leave is as
      // it will be after a freeze, since the job can write nothing more until it is over.
      const screen = Promise.resolve()
        .then(() => {
          this.stopOutput(true);
          return this.drainOutput();
        })
        .then(() => Promise.all([this.screen.snapshot(), this.screen.leave()]));
      const shellModes = this.shellModes.expected();
      const outcome = await checkpointJob({
        pgrp,
        leader: this.pty.pid,
        action,
        nameTemplate: this.options.nameTemplate,
        freezer: this.freezer,
        // Never rejects: a screen that could not be made is an image without one.
        screen: screen.then(([{ repaint }]) => (repaint ? Buffer.from(repaint) : undefined), () => undefined),
        shellModes: shellModes && formatGnuSaved(shellModes).trim(),
        seen,
      });
      if (outcome?.kind === 'froze') {
        const leave = await screen.then(([, leave]) => leave, () => undefined);
        if (leave?.bytes) this.show(Buffer.from(leave.bytes));
        if (leave?.alternateLeft) this.emit('left');
      }
      if (outcome) this.announce(outcome);
      return outcome;
    } finally {
      this.busy.delete(pgrp);
      this.stopOutput(false);
    }
  }

  private stopOutput(stop: boolean): void {
    try {
      stopSlaveOutput(this.pty.slavePath, stop);
    } catch {
      // The slave is gone: there is no output left to order.
    }
  }

  /**
   * Until every byte the program wrote has been read (and handed to the screen).
   * unreadOutput counts the bytes still on their way to the master too; a write that the
   * stop caught half done may land just after a look, so the master must have nothing
   * to read twice, a turn of the event loop apart. Output still unread waits for the
   * loop to read it, a millisecond at a time.
   */
  private async drainOutput(): Promise<void> {
    const deadline = performance.now() + DRAIN_MS;
    let quiet = 0;
    for (;;) {
      if (this.closed) return;
      try {
        quiet = unreadOutput(this.pty.masterFd) === 0 ? quiet + 1 : 0;
      } catch {
        return;
      }
      if (quiet >= 2 || performance.now() >= deadline) return;
      await new Promise((resolve) => (quiet > 0 ? setImmediate(resolve) : setTimeout(resolve, 1)));
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
