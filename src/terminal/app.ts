/**
 * `ckpty` with no subcommand: a full-screen terminal whose pane runs the user's
 * shell through the same Session as plain mode (the checkpoint key is the
 * host's, not a copy), with a status line and host commands behind a prefix key.
 *
 * This module puts the parts together and carries out the host commands. The parts:
 * outer-terminal.ts (the user's terminal: raw keys, hang-ups), key-router.ts (where
 * each key goes), pane.ts and view.ts (the frames of the session's screen worker and
 * their painting), status-bar.ts, foreground.ts (the job it names), mode-mirror.ts,
 * overlays.ts and scrollback.ts (what takes the keyboard), thaw-at-prompt.ts.
 */
import blessed from 'blessed';
import type { Widgets } from 'blessed';
import { isAbsolute, relative as relativePath } from 'node:path';
import { PassThrough } from 'node:stream';
import { CkptyError, ExitCode } from '../base/errors.js';
import { dieOfHangUp, dieOfHangUpAtExit } from '../base/hang-up.js';
import type { CheckpointAction, CheckpointOutcome } from '../host/events.js';
import { workingDirectory } from '../host/processes.js';
import { Session } from '../host/session.js';
import { describeJob, statusLine, thawLine } from '../host/status.js';
import { recordSession } from '../recorder/recorder.js';
import { ForegroundWatch } from './foreground.js';
import { listImages, type ImageEntry } from './images.js';
import { KeyRouter } from './key-router.js';
import { DEFAULT_PREFIX, keyName, PrefixReader, type HostCommand } from './keys.js';
import { ModeMirror } from './mode-mirror.js';
import { OuterTerminal } from './outer-terminal.js';
import { ask, showHelp, showImageList } from './overlays.js';
import { DEFAULT_SCROLLBACK, TerminalPane } from './pane.js';
import { browseScrollback } from './scrollback.js';
import { StatusBar } from './status-bar.js';
import { keyLabel } from './status.js';
import { thawKeys } from './thaw-at-prompt.js';
import { PaneView } from './view.js';

export interface TerminalOptions {
  /** The program to run in the pane (default $SHELL, then /bin/sh). */
  shell?: string;
  /** Initial ckpt character (0 disables). */
  key?: number;
  nameTemplate?: string;
  snapshot?: boolean;
  pass?: readonly string[];
  prefix?: number;
  /** Record the session (`--record`, `--record-input`); status lines stay out, they are not in the pane. */
  record?: { path: string; input: boolean };
}

export async function runTerminal(options: TerminalOptions): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new CkptyError('the full-screen terminal needs a terminal on stdin and stdout (try `ckpty shell`)', ExitCode.usage);
  }
  // blessed reads only what the key router hands it (overlays), never the keyboard itself.
  const widgetKeys = new PassThrough();
  const screen = blessed.screen({
    input: widgetKeys,
    output: process.stdout,
    fullUnicode: true,
    autoPadding: false,
    resizeTimeout: 30,
    title: 'ckpty',
    warnings: false,
  } as Widgets.IScreenOptions);
  // blessed switched the outer terminal to application keypad/cursor mode;
  // the program's own modes decide that from now on (see ModeMirror).
  (screen.program as unknown as { put: { keypad_local(): void } }).put.keypad_local();
  const shell = options.shell ?? process.env.SHELL ?? '/bin/sh';
  let session: Session;
  try {
    session = await Session.start({
      file: shell,
      cols: screen.width as number,
      rows: paneRows(screen),
      env: paneEnvironment(),
      scrollback: DEFAULT_SCROLLBACK,
      ...(options.pass !== undefined && { pass: options.pass }),
      ...(options.key !== undefined && { key: options.key }),
      ...(options.nameTemplate !== undefined && { nameTemplate: options.nameTemplate }),
      ...(options.snapshot !== undefined && { snapshot: options.snapshot }),
    });
    if (options.record) recordSession(session, { ...options.record, statusLines: false, command: shell });
    dieOfHangUpAtExit();
  } catch (err) {
    screen.destroy();
    throw new CkptyError(`cannot start ${options.shell ?? 'the shell'}: ${(err as Error).message}`, ExitCode.notFound);
  }
  return new TerminalApp(screen, widgetKeys, session, new PrefixReader(options.prefix ?? DEFAULT_PREFIX)).run();
}

/** The pane gets every row but the status line's. */
function paneRows(screen: Widgets.Screen): number {
  return Math.max(1, (screen.height as number) - 1);
}

/** xterm.js emulates xterm; the outer terminal's own type and colour claims do not apply. */
function paneEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
  delete env.COLORTERM;
  delete env.TERM_PROGRAM;
  delete env.TERM_PROGRAM_VERSION;
  return env;
}

class TerminalApp {
  private readonly pane: TerminalPane;
  private readonly view: PaneView;
  private readonly status: StatusBar;
  private readonly foreground: ForegroundWatch;
  private readonly keys: KeyRouter;
  private readonly modes = new ModeMirror();
  private readonly outer: OuterTerminal;
  private overlayOpen = false;
  /** ckpty's exit status when a signal told it to end (the program's otherwise). */
  private endedBy: number | undefined;

  constructor(
    private readonly screen: Widgets.Screen,
    private readonly widgetKeys: PassThrough,
    private readonly session: Session,
    private readonly prefix: PrefixReader,
  ) {
    this.pane = new TerminalPane(session.screen);
    this.view = new PaneView(screen, this.pane, () => ({ left: 0, top: 0, height: paneRows(screen) }));
    this.foreground = new ForegroundWatch(session, () => this.status.update());
    this.status = new StatusBar(
      screen,
      prefix,
      () => ({ tty: session.tty, foreground: this.foreground.name, key: session.key }),
      () => this.view.request(),
    );
    this.keys = new KeyRouter(prefix, {
      overlayOpen: () => this.overlayOpen,
      toOverlay: (data) => this.widgetKeys.write(data),
      toProgram: (data) => session.write(data),
      command: (command) => this.command(command),
      unknownCommand: (key) => this.status.show(`${keyName(prefix.prefix)} ${key}: no such command (${keyName(prefix.prefix)} ? lists them)`),
      prefixChanged: () => this.status.update(),
    });
    this.outer = new OuterTerminal({
      keys: (data) => this.keys.feed(data),
      terminate: (status) => {
        this.endedBy ??= status;
        this.session.hangUp();
      },
      hungUp: () => {
        // Draw nothing more on a terminal that is not there.
        this.view.stop();
        this.session.hangUp();
      },
    });
  }

  async run(): Promise<number> {
    const { session, pane, screen } = this;
    const exited = new Promise<number>((resolve) => session.on('exit', (exit) => resolve(exit.status)));
    session.on('output', () => this.foreground.output());
    session.on('key', () => this.status.show('ckpt: checkpointing…'));
    session.on('froze', (outcome) => this.outcome(outcome));
    session.on('snapshot', (outcome) => this.outcome(outcome));
    session.on('refused', (outcome) => this.outcome(outcome));
    session.on('thawed', (notice) => {
      this.status.show(thawLine(notice, this.shortPath(notice.image)));
      this.foreground.poll();
    });
    session.on('keyChanged', () => this.status.update());
    pane.on('frame', ({ modes }) => {
      const change = this.modes.update(modes);
      if (change) screen.program.write(change);
    });
    session.screen.on('reply', (reply) => session.write(reply));
    session.screen.on('title', (title) => (screen.title = title));
    session.screen.on('bell', () => screen.program.bell());
    session.screen.on('failed', (error) => this.status.show(`the screen's emulator failed: ${error.message}; quit with ${keyName(this.prefix.prefix)} q`));
    session.screen.frames(true);
    screen.on('resize', () => this.resize());
    this.outer.attach();
    this.status.update();
    screen.render();
    let status: number;
    try {
      status = await exited;
    } finally {
      this.tearDown();
    }
    if (this.outer.hungUp) dieOfHangUp();
    return this.endedBy ?? status;
  }

  private command(command: HostCommand): void {
    switch (command) {
      case 'literal':
        this.session.write(Buffer.from([this.prefix.prefix]));
        this.status.update();
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
    this.status.show(action === 'freeze' ? 'ckpt: freezing…' : 'ckpt: taking a snapshot…');
    const outcome = await this.session.checkpoint(action);
    if (outcome) return; // reported by the session's event (outcome())
    // Nothing done: no job, or one whose checkpoint is already under way.
    const job = this.session.foregroundJob();
    this.status.show(
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
    this.status.show(statusLine(shown).replace(/^ckpt: /, ''));
    this.foreground.poll();
  }

  private shortPath(path: string): string {
    const cwd = workingDirectory(this.session.pid);
    if (!cwd) return path;
    const relative = relativePath(cwd, path);
    return relative.startsWith('..') || isAbsolute(relative) ? path : relative;
  }

  /** `open` shows something that takes the keyboard until it calls `done`. */
  private openOverlay(open: (done: () => void) => void): void {
    this.overlayOpen = true;
    this.view.showCursor = false;
    open(() => {
      this.overlayOpen = false;
      this.view.showCursor = true;
      this.status.update();
    });
  }

  private async imageList(): Promise<void> {
    const dir = workingDirectory(this.session.pid) ?? process.cwd();
    let entries: ImageEntry[];
    try {
      entries = await listImages(dir);
    } catch (err) {
      this.status.show(`images: ${dir}: ${(err as Error).message}`);
      return;
    }
    this.openOverlay((done) => showImageList(this.screen, dir, entries, (entry) => this.thaw(entry), done));
  }

  private thaw(entry: ImageEntry): void {
    const job = this.session.foregroundJob();
    if (job) {
      this.status.show(`thaw: ${describeJob(job.members)} is in the foreground; thaw from the shell's prompt`);
      return;
    }
    this.session.write(thawKeys(entry.name));
    this.status.show(`thawing ${entry.name}`);
  }

  private scrollback(): void {
    if (this.pane.historyLength === 0) {
      this.status.show('scrollback: no history on this screen');
      return;
    }
    const { screen, pane, view, status } = this;
    this.openOverlay((done) => browseScrollback({ screen, pane, view, status, paneRows: () => paneRows(screen) }, done));
  }

  private quit(): void {
    const job = this.session.foregroundJob();
    if (!job) {
      this.session.hangUp();
      return;
    }
    this.openOverlay((done) =>
      ask(this.screen, `${describeJob(job.members)} is running. Quit anyway (it gets SIGHUP)?`, (yes) => {
        done();
        if (yes) this.session.hangUp();
      }),
    );
  }

  private resize(): void {
    const cols = this.screen.width as number;
    const rows = paneRows(this.screen);
    this.session.resize(cols, rows);
    this.status.update();
  }

  private tearDown(): void {
    this.foreground.dispose();
    this.outer.detach();
    this.view.stop();
    if (this.outer.hungUp) return;
    const release = this.modes.release();
    if (release) this.screen.program.write(release);
    this.screen.destroy();
  }
}
