/**
 * `ckpty` with no subcommand: a full-screen terminal whose pane runs the user's
 * shell through the same Session as plain mode (the checkpoint key is the
 * host's, not a copy), with a status line and host commands behind a prefix key.
 *
 * Keyboard bytes are read raw from stdin by this module, not by blessed: in the
 * pane they go to the Session untouched (but for the prefix key); while an
 * overlay is open they are handed to blessed through `widgetKeys`, so blessed
 * never sees or mangles what the program gets.
 */
import blessed from 'blessed';
import type { Widgets } from 'blessed';
import { realpathSync } from 'node:fs';
import { isAbsolute, relative as relativePath } from 'node:path';
import { PassThrough } from 'node:stream';
import { CkptyError, ExitCode } from '../base/errors.js';
import { findProgram } from '../base/find-program.js';
import { shellWord } from '../base/format.js';
import { readStat } from '../freezer/proc.js';
import type { CheckpointAction, CheckpointOutcome } from '../host/events.js';
import { workingDirectory } from '../host/processes.js';
import { Session } from '../host/session.js';
import { recordSession } from '../recorder/recorder.js';
import { describeJob, statusLine, thawLine } from '../host/status.js';
import { OutputFeed } from './feed.js';
import { listImages, type ImageEntry } from './images.js';
import { DEFAULT_PREFIX, keyName, PrefixReader, type HostCommand } from './keys.js';
import { ask, showHelp, showImageList } from './overlays.js';
import { TerminalPane } from './pane.js';
import { formatStatus, keyLabel } from './status.js';
import { PaneView } from './view.js';

export interface TerminalOptions {
  /** The program to run in the pane (default $SHELL, then /bin/sh). */
  shell?: string;
  /** Initial ckpt character (0 disables). */
  key?: number;
  nameTemplate?: string;
  snapshot?: boolean;
  prefix?: number;
  /** Record the session (`--record`, `--record-input`); status lines stay out, they are not in the pane. */
  record?: { path: string; input: boolean };
}

/** The foreground job is looked up this often, and on output at most every FOREGROUND_MIN_MS. */
const FOREGROUND_POLL_MS = 500;
const FOREGROUND_MIN_MS = 150;
/** A shell that ignores SIGHUP on quit gets SIGKILL after this long. */
const QUIT_GRACE_MS = 2000;

type Mode = 'pane' | 'overlay';

/** The outer terminal's input modes we keep in step with the program's. */
interface MirroredModes {
  applicationCursorKeys: boolean;
  applicationKeypad: boolean;
  bracketedPaste: boolean;
}

export async function runTerminal(options: TerminalOptions): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new CkptyError('the full-screen terminal needs a terminal on stdin and stdout (try `ckpty shell`)', ExitCode.usage);
  }
  const app = new TerminalApp(options);
  return app.run();
}

class TerminalApp {
  private readonly widgetKeys = new PassThrough();
  private readonly screen: Widgets.Screen;
  private readonly prefix: PrefixReader;
  private pane!: TerminalPane;
  private view!: PaneView;
  private session!: Session;
  private statusBox!: Widgets.BoxElement;
  private mode: Mode = 'pane';
  private message = '';
  private foreground = '';
  private lastForegroundPoll = 0;
  private feed!: OutputFeed;
  private readonly mirrored: MirroredModes = { applicationCursorKeys: false, applicationKeypad: false, bracketedPaste: false };
  private timers: NodeJS.Timeout[] = [];
  private outerTerminalGone = false;

  constructor(private readonly options: TerminalOptions) {
    this.prefix = new PrefixReader(options.prefix ?? DEFAULT_PREFIX);
    this.screen = blessed.screen({
      input: this.widgetKeys,
      output: process.stdout,
      fullUnicode: true,
      autoPadding: false,
      resizeTimeout: 30,
      title: 'ckpty',
      warnings: false,
    } as Widgets.IScreenOptions);
    // blessed switched the outer terminal to application keypad/cursor mode;
    // the program's own modes decide that from now on (see mirrorModes).
    (this.screen.program as unknown as { put: { keypad_local(): void } }).put.keypad_local();
  }

  private get paneRows(): number {
    return Math.max(1, (this.screen.height as number) - 1);
  }

  async run(): Promise<number> {
    const cols = this.screen.width as number;
    const rows = this.paneRows;
    try {
      this.session = await Session.start({
        file: this.options.shell ?? process.env.SHELL ?? '/bin/sh',
        cols,
        rows,
        env: paneEnvironment(),
        ...(this.options.key !== undefined && { key: this.options.key }),
        ...(this.options.nameTemplate !== undefined && { nameTemplate: this.options.nameTemplate }),
        ...(this.options.snapshot !== undefined && { snapshot: this.options.snapshot }),
      });
      if (this.options.record) recordSession(this.session, { ...this.options.record, statusLines: false, command: this.options.shell ?? process.env.SHELL ?? '/bin/sh' });
    } catch (err) {
      this.screen.destroy();
      throw new CkptyError(`cannot start ${this.options.shell ?? 'the shell'}: ${(err as Error).message}`, ExitCode.notFound);
    }
    this.foreground = this.shellName();
    this.pane = new TerminalPane({ cols, rows, onReply: (reply) => this.session.write(reply) });
    this.feed = new OutputFeed(this.pane, this.session);
    this.view = new PaneView(this.screen, this.pane, () => ({ left: 0, top: 0, height: this.paneRows }), () => this.feed.behind);
    this.statusBox = blessed.box({ parent: this.screen, bottom: 0, left: 0, width: '100%', height: 1, style: { inverse: true } });

    const exited = new Promise<number>((resolve) => this.session.on('exit', (exit) => resolve(exit.status)));
    this.wire();
    this.updateStatus();
    this.screen.render();
    let status: number;
    try {
      status = await exited;
    } finally {
      this.cleanup();
    }
    if (this.outerTerminalGone) dieOfHangUp();
    return status;
  }

  private wire(): void {
    const { session, pane, screen } = this;
    session.on('output', (data) => this.output(data));
    session.on('key', () => this.setMessage('ckpt: checkpointing…'));
    session.on('froze', (outcome) => this.outcome(outcome));
    session.on('snapshot', (outcome) => this.outcome(outcome));
    session.on('refused', (outcome) => this.outcome(outcome));
    session.on('thawed', (notice) => {
      this.setMessage(thawLine(notice, this.shortPath(notice.image)));
      this.pollForeground();
    });
    session.on('keyChanged', () => this.updateStatus());
    pane.term.onWriteParsed(() => this.mirrorModes());
    pane.term.onTitleChange((title) => (screen.title = title));
    pane.term.onBell(() => screen.program.bell());
    screen.on('resize', () => this.resize());

    process.stdin.setRawMode(true);
    process.stdin.on('data', this.keyboard);
    process.stdin.resume();
    process.on('SIGTERM', this.hangUp);
    process.on('SIGHUP', this.lostOuterTerminal);
    // A hung-up terminal reads as end of file (or EIO) and fails writes with EIO.
    process.stdin.on('end', this.lostOuterTerminal);
    process.stdin.on('error', this.lostOuterTerminal);
    process.stdout.on('error', this.lostOuterTerminal);
    this.timers.push(setInterval(() => this.pollForeground(), FOREGROUND_POLL_MS));
  }

  private readonly keyboard = (data: Buffer): void => {
    if (this.overlayOpen()) {
      this.widgetKeys.write(data);
      return;
    }
    const wasPending = this.prefix.pending;
    for (const piece of this.prefix.feed(data)) {
      if (this.overlayOpen()) {
        // A command opened an overlay: the rest of the read is for it.
        if (piece.kind === 'program') this.widgetKeys.write(piece.data);
        continue;
      }
      switch (piece.kind) {
        case 'program':
          this.pane.userTyped();
          this.session.write(piece.data);
          break;
        case 'command':
          this.command(piece.command);
          break;
        case 'unknown':
          this.setMessage(`${keyName(this.prefix.prefix)} ${piece.key}: no such command (${keyName(this.prefix.prefix)} ? lists them)`);
          break;
        case 'cancel':
          this.updateStatus();
          break;
      }
    }
    if (this.prefix.pending !== wasPending) this.updateStatus();
  };

  private overlayOpen(): boolean {
    return this.mode === 'overlay';
  }

  private command(command: HostCommand): void {
    switch (command) {
      case 'literal':
        this.session.write(Buffer.from([this.prefix.prefix]));
        this.updateStatus();
        return;
      case 'freeze':
      case 'snapshot':
        void this.checkpoint(command);
        return;
      case 'help':
        this.openOverlay((done) => showHelp(this.screen, this.prefix.prefix, keyLabel(this.session.key), done));
        return;
      case 'list':
        void this.imageList();
        return;
      case 'scrollback':
        this.scrollback();
        return;
      case 'quit':
        this.quit();
        return;
    }
  }

  private async checkpoint(action: CheckpointAction): Promise<void> {
    this.setMessage(action === 'freeze' ? 'ckpt: freezing…' : 'ckpt: taking a snapshot…');
    const outcome = await this.session.checkpoint(action);
    if (outcome) return; // reported by the session's event (outcome())
    // Nothing done: no job, or one whose checkpoint is already under way.
    const job = this.session.foregroundJob();
    this.setMessage(
      job
        ? `ckpt: ${describeJob(job.members)}: a checkpoint is already under way`
        : `ckpt: no job to ${action === 'freeze' ? 'freeze' : 'snapshot'}: the shell is in the foreground`,
    );
  }

  /**
   * The host's own wording, made to fit one row: without its `ckpt: ` (the
   * status line is ckpty's anyway) and with the image path relative to the
   * shell's directory when it is inside it.
   */
  private outcome(outcome: CheckpointOutcome): void {
    const shown = outcome.kind === 'refused' ? outcome : { ...outcome, path: this.shortPath(outcome.path) };
    this.setMessage(statusLine(shown).replace(/^ckpt: /, ''));
    this.pollForeground();
  }

  private shortPath(path: string): string {
    const cwd = workingDirectory(this.session.pid);
    if (!cwd) return path;
    const relative = relativePath(cwd, path);
    return relative.startsWith('..') || isAbsolute(relative) ? path : relative;
  }

  private openOverlay(open: (done: () => void) => void): void {
    this.mode = 'overlay';
    this.view.showCursor = false;
    open(() => {
      this.mode = 'pane';
      this.view.showCursor = true;
      this.updateStatus();
    });
  }

  private async imageList(): Promise<void> {
    const dir = workingDirectory(this.session.pid) ?? process.cwd();
    let entries: ImageEntry[];
    try {
      entries = await listImages(dir);
    } catch (err) {
      this.setMessage(`images: ${dir}: ${(err as Error).message}`);
      return;
    }
    this.openOverlay((done) => showImageList(this.screen, dir, entries, (entry) => this.thaw(entry), done));
  }

  /**
   * Thawing is typing `ckpty thaw FILE` at the shell's prompt: the thawed
   * program then is the shell's foreground job, as if the user had typed it
   * (job control, exit status, history). ^E^U first empties the prompt line
   * (end of line, kill to start: readline, zsh, fish, and the kernel's
   * canonical mode all do that).
   */
  private thaw(entry: ImageEntry): void {
    const job = this.session.foregroundJob();
    if (job) {
      this.setMessage(`thaw: ${describeJob(job.members)} is in the foreground; thaw from the shell's prompt`);
      return;
    }
    this.session.write(`\x05\x15${ckptyCommand()} thaw ${shellWord(entry.name)}\r`);
    this.setMessage(`thawing ${entry.name}`);
  }

  private scrollback(): void {
    if (this.pane.historyLength === 0) {
      this.setMessage('scrollback: no history on this screen');
      return;
    }
    const page = () => Math.max(1, this.paneRows - 1);
    const show = () => {
      this.setMessage(`scrollback: ${this.pane.historyLength - this.pane.viewTop} of ${this.pane.historyLength} lines up — PgUp PgDn ↑ ↓ g G, q or Esc leaves`);
      this.view.frames.request();
    };
    const onKey = (ch: string | undefined, key: { name?: string; shift?: boolean }) => {
      switch (key.name) {
        case 'pageup': this.pane.scrollBy(-page()); break;
        case 'pagedown': case 'space': this.pane.scrollBy(page()); break;
        case 'up': case 'k': this.pane.scrollBy(-1); break;
        case 'down': case 'j': this.pane.scrollBy(1); break;
        case 'home': this.pane.scrollToTop(); break;
        case 'end': this.pane.scrollToBottom(); break;
        case 'escape': case 'q': leave(); return;
        default:
          if (ch === 'g') this.pane.scrollToTop();
          else if (ch === 'G') this.pane.scrollToBottom();
          else return;
      }
      show();
    };
    let finish: () => void = () => {};
    const leave = () => {
      this.screen.removeListener('keypress', onKey);
      this.pane.scrollToBottom();
      this.message = '';
      this.view.frames.request();
      finish();
    };
    this.openOverlay((done) => {
      finish = done;
      this.view.showCursor = true;
      this.screen.on('keypress', onKey);
      this.pane.scrollBy(-page());
      show();
    });
  }

  private quit(): void {
    const job = this.session.foregroundJob();
    if (!job) {
      this.hangUp();
      return;
    }
    this.openOverlay((done) =>
      ask(this.screen, `${describeJob(job.members)} is running. Quit anyway (it gets SIGHUP)?`, (yes) => {
        done();
        if (yes) this.hangUp();
      }),
    );
  }

  /**
   * The outer terminal hung up (SIGHUP, or EIO on it): hang up the session too,
   * and draw nothing more on a terminal that is not there.
   */
  private readonly lostOuterTerminal = (): void => {
    if (this.outerTerminalGone) return;
    this.outerTerminalGone = true;
    this.view.frames.cancel();
    this.hangUp();
  };

  /** Ends the session the way closing a terminal does; the exit event finishes run(). */
  private readonly hangUp = (): void => {
    this.session.kill('SIGHUP');
    const force = setTimeout(() => this.session.kill('SIGKILL'), QUIT_GRACE_MS);
    force.unref();
    this.timers.push(force);
  };

  private output(data: Buffer): void {
    // Programs start and end with output: a cheap moment to look again.
    if (Date.now() - this.lastForegroundPoll > FOREGROUND_MIN_MS) this.pollForeground();
    this.feed.push(data);
  }

  /** Keeps the outer terminal's key encodings what the program asked for. */
  private mirrorModes(): void {
    const modes = this.pane.term.modes;
    const want: MirroredModes = {
      applicationCursorKeys: modes.applicationCursorKeysMode,
      applicationKeypad: modes.applicationKeypadMode,
      bracketedPaste: modes.bracketedPasteMode,
    };
    let out = '';
    if (want.applicationCursorKeys !== this.mirrored.applicationCursorKeys) out += want.applicationCursorKeys ? '\x1b[?1h' : '\x1b[?1l';
    if (want.applicationKeypad !== this.mirrored.applicationKeypad) out += want.applicationKeypad ? '\x1b=' : '\x1b>';
    if (want.bracketedPaste !== this.mirrored.bracketedPaste) out += want.bracketedPaste ? '\x1b[?2004h' : '\x1b[?2004l';
    if (out) {
      Object.assign(this.mirrored, want);
      this.screen.program.write(out);
    }
  }

  private resize(): void {
    const cols = this.screen.width as number;
    const rows = this.paneRows;
    this.pane.resize(cols, rows);
    this.session.resize(cols, rows);
    this.updateStatus();
  }

  private pollForeground(): void {
    this.lastForegroundPoll = Date.now();
    const job = this.session.foregroundJob();
    // One name is enough here (the whole job is in the refusal message): `bash[12] +2`.
    const [first, ...others] = job?.members ?? [];
    const name = first ? describeJob([first]) + (others.length > 0 ? ` +${others.length}` : '') : this.shellName();
    if (name !== this.foreground) {
      this.foreground = name;
      this.updateStatus();
    }
  }

  /** Read each time: right after the spawn the shell is still called node. */
  private shellName(): string {
    return `${readStat(this.session.pid)?.comm ?? 'shell'}[${this.session.pid}]`;
  }

  private setMessage(message: string): void {
    this.message = message;
    this.updateStatus();
  }

  private updateStatus(): void {
    const p = keyName(this.prefix.prefix);
    const message = this.prefix.pending
      ? `${p} … f freeze  s snapshot  l images  [ scrollback  ? help  q quit  ${p} send ${p}`
      : this.message;
    this.statusBox.setContent(
      formatStatus(
        { tty: this.session.tty, foreground: this.foreground, key: this.session.key, message, hint: `${p} ? help` },
        this.screen.width as number,
      ),
    );
    this.view.frames.request();
  }

  private cleanup(): void {
    for (const timer of this.timers) clearTimeout(timer);
    process.removeListener('SIGTERM', this.hangUp);
    process.stdin.removeListener('data', this.keyboard);
    this.view.frames.cancel();
    this.pane.dispose();
    if (this.outerTerminalGone) return;
    process.stdin.setRawMode(false);
    process.stdin.pause();
    if (this.mirrored.bracketedPaste) this.screen.program.write('\x1b[?2004l');
    this.screen.destroy();
  }
}

/**
 * Ends ckpty as SIGHUP ends any program whose terminal went away. Exiting
 * normally would not do: Node restores the terminal's modes at exit and aborts
 * (with a core dump) when the terminal is gone (tcsetattr fails with EIO).
 */
function dieOfHangUp(): never {
  process.removeAllListeners('SIGHUP');
  process.kill(process.pid, 'SIGHUP');
  // Another thread may take the signal: wait here (not in the event loop) for it to end us.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
  throw new Error('SIGHUP did not end the process');
}

/** xterm.js emulates xterm; the outer terminal's own type and colour claims do not apply. */
function paneEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.COLORTERM;
  delete env.TERM_PROGRAM;
  delete env.TERM_PROGRAM_VERSION;
  return env;
}

/** `ckpty` when that name on PATH runs this very ckpty, else this ckpty's path. */
function ckptyCommand(): string {
  const self = process.argv[1] ?? 'ckpty';
  const onPath = findProgram('ckpty', process.env.PATH ?? '');
  return onPath !== undefined && sameFile(onPath, self) ? 'ckpty' : shellWord(self);
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
