/**
 * Plain mode: a session inside the user's own terminal, like script(1). The outer
 * terminal goes raw (the session's kernel pty does the line discipline), and whatever
 * happens — the program ends, ckpty gets SIGTERM/SIGHUP/SIGINT, or a bug throws — its
 * modes are put back before ckpty exits. When the terminal itself goes away (SIGHUP, EIO),
 * the program is hung up too, and ckpty ends by SIGHUP once it has ended; SIGTERM and
 * SIGINT hang it up the same way, and ckpty then exits with 143 or 130.
 */
import { isatty } from 'node:tty';
import { ExitCode } from '../base/errors.js';
import { dieOfHangUp, dieOfHangUpAtExit, onEndingSignal } from '../base/hang-up.js';
import {
  BRKINT,
  CS8,
  CSIZE,
  ECHO,
  ECHONL,
  ICANON,
  ICRNL,
  IEXTEN,
  IGNBRK,
  IGNCR,
  INLCR,
  ISIG,
  ISTRIP,
  IXON,
  OPOST,
  PARENB,
  PARMRK,
  VMIN,
  VTIME,
} from '../termios/termios.js';
import { readTerminalSettings, writeTerminalSettings, type KernelTermios } from '../host/native.js';
import { OutputLine } from '../host/fresh-line.js';
import { Session, type SessionOptions } from '../host/session.js';
import { statusLine } from '../host/status.js';
import type { CheckpointOutcome } from '../host/events.js';
import { recordSession } from '../recorder/recorder.js';
import { HeldStatus } from './held-status.js';

export interface PlainOptions extends SessionOptions {
  /** No status line after the key. */
  quiet?: boolean;
  /** Record the session (`--record`, `--record-input`). */
  record?: { path: string; input: boolean };
}

/** Run the session to its end; resolves to the exit status ckpty should have. */
export async function runPlain(options: PlainOptions): Promise<number> {
  const { stdin, stdout } = process;
  const session = await Session.start(stdout.isTTY ? { ...options, cols: stdout.columns, rows: stdout.rows } : options);
  if (options.record) recordSession(session, { ...options.record, statusLines: !options.quiet, command: options.file });

  const restore = outerTerminalGuard();
  dieOfHangUpAtExit();
  const line = new OutputLine();
  // The terminal hung up (its window closed): nothing more is read from it or written to it.
  let hungUp = false;
  const write = (data: string | Buffer): boolean => hungUp || stdout.write(data);

  session.on('output', (data) => {
    line.output(data);
    if (!write(data)) {
      // A slow terminal pushes back on the program instead of filling memory.
      session.pause();
      stdout.once('drain', () => session.resume());
    }
  });
  session.on('key', () => line.markKey());
  session.on('left', () => line.restart());
  const held = new HeldStatus(
    session,
    (text) => write(line.place(text, session.cols)),
    (bell) => write(bell),
  );
  if (!options.quiet) {
    // After a freeze the terminal is the shell's again (and the shell's output waits): the line goes now.
    session.on('froze', (outcome) => write(line.place(statusLine(outcome), session.cols)));
    const report = (outcome: CheckpointOutcome): void => void held.show(statusLine(outcome));
    session.on('snapshot', report);
    session.on('refused', report);
  }

  const onInput = (data: Buffer): void => session.write(data);
  const onInputEnd = (): void => void session.endInput();
  const onResize = (): void => session.resize(stdout.columns, stdout.rows);
  // SIGHUP, or a terminal that reads as end of file or fails with EIO: the program is hung
  // up as well, and ckpty ends by SIGHUP once it has ended (exit below).
  const onHangUp = (): void => {
    if (hungUp) return;
    hungUp = true;
    stdin.off('data', onInput);
    stdin.pause();
    restore();
    session.hangUp();
  };
  stdin.on('data', onInput);
  // The end of a terminal is its hang-up; the end of piped input goes to the program.
  const onEnd = stdin.isTTY ? onHangUp : onInputEnd;
  stdin.on('end', onEnd);
  stdin.on('error', onHangUp);
  stdout.on('error', onHangUp);
  if (stdout.isTTY) stdout.on('resize', onResize);

  // SIGTERM, SIGINT: the program is hung up as by a closing terminal (which stays: its
  // modes come back at the end), and ckpty ends with 128 + the signal once it has gone.
  let endedBy: number | undefined;
  const stopSignals = onEndingSignal((status) => {
    endedBy ??= status;
    stdin.off('data', onInput);
    session.hangUp();
  });
  process.on('SIGHUP', onHangUp);

  return new Promise((resolve) => {
    session.on('exit', ({ status }) => {
      stdin.off('data', onInput);
      stdin.off('end', onEnd);
      stdin.off('error', onHangUp);
      stdout.off('error', onHangUp);
      stdin.pause();
      stdout.off('resize', onResize);
      stopSignals();
      process.off('SIGHUP', onHangUp);
      held.dispose();
      if (hungUp) dieOfHangUp();
      restore();
      resolve(endedBy ?? status);
    });
  });
}

/**
 * Put the outer terminal in raw mode; the returned function restores its settings
 * exactly (unless it hung up: its modes went with it) and may be called any number of
 * times. It also runs at process exit and on an uncaught exception, so no path out of
 * ckpty leaves the terminal raw.
 */
function outerTerminalGuard(): () => void {
  const { stdin } = process;
  stdin.resume();
  if (!stdin.isTTY) return () => {};
  const saved = readTerminalSettings(stdin.fd);
  writeTerminalSettings(stdin.fd, makeRaw(saved), false);
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    if (isatty(stdin.fd)) writeTerminalSettings(stdin.fd, saved, true);
  };
  process.once('exit', restore);
  process.once('uncaughtException', (err) => {
    restore();
    process.stderr.write(`ckpty: internal error: ${process.env.CKPTY_DEBUG ? err.stack : String(err)}\n`);
    process.exit(ExitCode.internal);
  });
  return restore;
}

/**
 * cfmakeraw(3): bytes pass both ways unchanged. (Node's setRawMode keeps OPOST and
 * ONLCR, which would turn a program's bare line feed into CR LF and misplace the cursor.)
 */
function makeRaw(t: KernelTermios): KernelTermios {
  const cc = [...t.cc];
  cc[VMIN] = 1;
  cc[VTIME] = 0;
  return {
    ...t,
    iflag: t.iflag & ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON),
    oflag: t.oflag & ~OPOST,
    lflag: t.lflag & ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN),
    cflag: (t.cflag & ~(CSIZE | PARENB)) | CS8,
    cc,
  };
}
