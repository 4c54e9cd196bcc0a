/**
 * A model of Linux's N_TTY line discipline, input side (drivers/tty/n_tty.c), extended with
 * ckpty's checkpoint character.
 *
 * Fed the bytes a keyboard sends to a pty master one at a time, it says what the kernel does
 * with each: what is echoed (after output processing), what a reader on the slave receives,
 * which signals go to the foreground process group, what is flushed, whether output stops or
 * starts — and, for `ckpt`, that the foreground job is to be checkpointed.
 *
 * The reader on the slave is assumed to be waiting in read() all the time: a line (canonical
 * mode) or a byte (non-canonical mode) is taken as soon as it is readable. This is what a
 * shell or a program at a prompt does, and what makes the model's answer a function of the
 * keystrokes alone.
 *
 * Pure: no IO. Facts are taken from the kernel source; structure follows FreeBSD's ttydisc:
 * one fixed order of stages in `receive()`, and one named predicate per character class.
 */
import {
  ECHO,
  ECHOCTL,
  ECHOE,
  ECHOK,
  ECHOKE,
  ECHONL,
  ECHOPRT,
  EXTPROC,
  ICANON,
  ICRNL,
  IEXTEN,
  IGNCR,
  INLCR,
  ISIG,
  ISTRIP,
  IUCLC,
  IUTF8,
  IXANY,
  IXON,
  NOFLSH,
  PARMRK,
  VDISABLE,
  VEOF,
  VEOL,
  VEOL2,
  VERASE,
  VINTR,
  VKILL,
  VLNEXT,
  VQUIT,
  VREPRINT,
  VSTART,
  VSTOP,
  VSUSP,
  VWERASE,
  cloneTermios,
  newPtyTermios,
  type Termios,
} from '../termios/termios.js';
import { isAlnum, isCntrl, isUtf8Continuation, toLower } from './ctype.js';
import { EchoQueue } from './echo.js';

export type SignalName = 'SIGINT' | 'SIGQUIT' | 'SIGTSTP';

/** What happens because of one input byte, in order. */
export type LdiscEvent =
  /** Bytes written to the terminal (the master side) as echo. */
  | { kind: 'echo'; bytes: Uint8Array }
  /** One read() result of a reader on the slave; empty for an end-of-file (EOF at line start). */
  | { kind: 'data'; bytes: Uint8Array }
  | { kind: 'signal'; name: SignalName }
  | { kind: 'flush'; queue: 'input' | 'output' }
  /** ckpty's ckpt key: checkpoint the foreground job. */
  | { kind: 'checkpoint' }
  | { kind: 'stop-output' }
  | { kind: 'start-output' };

const NL = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const BS = 0x08;

/**
 * The longest line the kernel buffers (N_TTY_BUF_SIZE). Beyond it, each further byte
 * replaces the line's last byte, so that a line end can always get in.
 */
export const MAX_CANON_LINE = 4096;

const has = (flags: number, bit: number): boolean => (flags & bit) !== 0;

/** `c` is the control character `index`. A disabled character (VDISABLE) matches nothing. */
function isCc(t: Termios, index: number, c: number): boolean {
  return c !== VDISABLE && t.cc[index] === c;
}

function isCkptChar(t: Termios, c: number): boolean {
  return c !== VDISABLE && t.ckpt === c;
}

/** START or STOP, when IXON makes them flow control. */
function isFlowChar(t: Termios, c: number): boolean {
  return has(t.iflag, IXON) && (isCc(t, VSTART, c) || isCc(t, VSTOP, c));
}

/** INTR, QUIT, SUSP or ckpt, when ISIG is on. The first match wins, in this order. */
function signalCharAction(t: Termios, c: number): SignalName | 'checkpoint' | null {
  if (!has(t.lflag, ISIG)) return null;
  if (isCc(t, VINTR, c)) return 'SIGINT';
  if (isCc(t, VQUIT, c)) return 'SIGQUIT';
  if (isCc(t, VSUSP, c)) return 'SIGTSTP';
  if (isCkptChar(t, c)) return 'checkpoint';
  return null;
}

/** ERASE, KILL, and WERASE under IEXTEN: the characters that edit the canonical line. */
function isEditChar(t: Termios, c: number): boolean {
  return isCc(t, VERASE, c) || isCc(t, VKILL, c) || (isCc(t, VWERASE, c) && has(t.lflag, IEXTEN));
}

/** EOL, and EOL2 under IEXTEN: extra line ends, stored and echoed like ordinary characters. */
function isExtraLineEnd(t: Termios, c: number): boolean {
  return isCc(t, VEOL, c) || (isCc(t, VEOL2, c) && has(t.lflag, IEXTEN));
}

/**
 * The kernel's char_map: a byte that may mean something under these settings goes the
 * long way through the stages; any other byte is stored and echoed as it is. The difference
 * is visible: an LF that is merely data echoes as `^J` under ECHOCTL, one that reached
 * the special path (CR mapped by ICRNL) echoes as a line feed.
 */
function isSpecial(t: Termios, c: number): boolean {
  if (c === VDISABLE) return false;
  const { iflag, lflag } = t;
  if (c === CR && has(iflag, IGNCR | ICRNL)) return true;
  if (c === NL && has(iflag, INLCR)) return true;
  if (has(lflag, ICANON)) {
    if (isCc(t, VERASE, c) || isCc(t, VKILL, c) || isCc(t, VEOF, c) || c === NL || isCc(t, VEOL, c)) return true;
    if (has(lflag, IEXTEN)) {
      if (isCc(t, VWERASE, c) || isCc(t, VLNEXT, c) || isCc(t, VEOL2, c)) return true;
      if (has(lflag, ECHO) && isCc(t, VREPRINT, c)) return true;
    }
  }
  return isFlowChar(t, c) || signalCharAction(t, c) !== null;
}

/** ISTRIP, then IUCLC (which Linux applies only under IEXTEN). */
function translateInput(t: Termios, c: number): number {
  if (has(t.iflag, ISTRIP)) c &= 0x7f;
  if (has(t.iflag, IUCLC) && has(t.lflag, IEXTEN)) c = toLower(c);
  return c;
}

/**
 * Whether `byte` is the checkpoint key under termios `t`: ISIG on, `ckpt` enabled and equal
 * to the byte after ISTRIP/IUCLC, the byte not quoted by a preceding LNEXT (`lnextPending`),
 * and not taken first by IXON flow control or by INTR, QUIT or SUSP.
 */
export function isCheckpointKey(t: Termios, lnextPending: boolean, byte: number): boolean {
  if (lnextPending || has(t.lflag, EXTPROC)) return false;
  const c = translateInput(t, byte & 0xff);
  return !isFlowChar(t, c) && signalCharAction(t, c) === 'checkpoint';
}

/** Collects the effects of one input byte. */
class Effects {
  readonly control: LdiscEvent[] = [];
  readonly echo: number[] = [];
  readonly reads: Uint8Array[] = [];
  checkpoint = false;

  events(): LdiscEvent[] {
    const events = [...this.control];
    if (this.echo.length > 0) events.push({ kind: 'echo', bytes: Uint8Array.from(this.echo) });
    for (const bytes of this.reads) events.push({ kind: 'data', bytes });
    // The checkpoint comes last: the job is frozen after its key has been echoed.
    if (this.checkpoint) events.push({ kind: 'checkpoint' });
    return events;
  }
}

export class LineDiscipline {
  private t: Termios;
  /** Canonical mode: the line being typed (read_buf from canon_head to read_head). */
  private line: number[] = [];
  /** Non-canonical mode: a byte was stored since the last flush or mode switch. */
  private storedSinceFlush = false;
  /** Non-canonical mode: bytes stored by this input byte, readable once it is processed. */
  private unpublished: number[] = [];
  private lnext = false;
  /** ECHOPRT: inside a `\...` erase sequence that a `/` must close. */
  private erasing = false;
  private stopped = false;
  private readonly echo = new EchoQueue();

  constructor(termios: Termios = newPtyTermios()) {
    this.t = cloneTermios(termios);
  }

  get termios(): Termios {
    return cloneTermios(this.t);
  }

  /** The next byte will be taken literally (LNEXT was just typed). */
  get lnextPending(): boolean {
    return this.lnext;
  }

  /** Output is stopped by STOP (IXON). */
  get outputStopped(): boolean {
    return this.stopped;
  }

  /** The column the kernel believes the cursor is in. */
  get column(): number {
    return this.echo.output.column;
  }

  /** The canonical line typed so far and not yet delivered. */
  pending(): Uint8Array {
    return Uint8Array.from(this.line);
  }

  isCheckpointKey(byte: number): boolean {
    return isCheckpointKey(this.t, this.lnext, byte);
  }

  /** One byte from the keyboard. */
  input(byte: number): LdiscEvent[] {
    const fx = new Effects();
    this.makeRoom();
    this.receive(byte & 0xff, fx);
    // The end of every receive writes out pending echoes (flush_echoes), if echoing at all.
    if (has(this.t.lflag, ECHO | ECHONL)) this.echo.writeAll(this.t, this.stopped, fx.echo);
    this.publish(fx);
    return fx.events();
  }

  /** Several bytes, each processed as if typed separately. */
  inputAll(bytes: Iterable<number>): LdiscEvent[] {
    const events: LdiscEvent[] = [];
    for (const b of bytes) events.push(...this.input(b));
    return events;
  }

  /**
   * The slave's termios changed (n_tty_set_termios). Switching ICANON (or EXTPROC) ends
   * LNEXT and ECHOPRT state; leaving canonical mode makes the partial line readable;
   * turning IXON off restarts stopped output.
   */
  setTermios(termios: Termios): LdiscEvent[] {
    const old = this.t;
    this.t = cloneTermios(termios);
    const fx = new Effects();
    if (has(old.lflag ^ this.t.lflag, ICANON | EXTPROC)) {
      // A partial canonical line becomes readable as it is (pushed, without a line end).
      // Leaving canonical mode with such a line also leaves the kernel's line start behind it.
      if (this.line.length > 0) fx.reads.push(Uint8Array.from(this.line));
      this.storedSinceFlush = !has(this.t.lflag, ICANON) && this.line.length > 0;
      this.line = [];
      this.erasing = false;
      this.lnext = false;
    }
    if (!has(this.t.iflag, IXON) && has(old.iflag, IXON)) {
      this.start(fx);
      this.echo.writeMarked(this.t, this.stopped, fx.echo);
    }
    return fx.events();
  }

  // ---- stages -------------------------------------------------------------------------------

  private receive(byte: number, fx: Effects): void {
    const t = this.t;

    // 1. LNEXT quoted the previous byte: this one is stored and echoed with no special
    //    meaning at all (not even CR mapping); only ISTRIP and IUCLC still apply.
    if (this.lnext) {
      this.lnext = false;
      this.receiveOrdinary(translateInput(t, byte), fx);
      return;
    }

    // 2. ISTRIP, IUCLC.
    let c = translateInput(t, byte);

    // 3. EXTPROC: an external process (telnetd, sshd) does the editing; pass bytes as they are.
    if (has(t.lflag, EXTPROC)) {
      this.store(c);
      return;
    }

    // 4. Bytes with no special meaning under these settings.
    if (!isSpecial(t, c)) {
      this.receiveOrdinary(c, fx);
      return;
    }

    // 5. IXON flow control. START wins if START and STOP are the same character.
    if (isFlowChar(t, c)) {
      if (isCc(t, VSTART, c)) {
        this.start(fx);
        this.echo.writeMarked(t, this.stopped, fx.echo);
      } else {
        this.stop(fx);
      }
      return;
    }

    // 6. ISIG: INTR, QUIT, SUSP, and ckpty's ckpt.
    const action = signalCharAction(t, c);
    if (action !== null) {
      this.receiveSignalChar(action, c, fx);
      return;
    }

    // 7. IXANY: any other character restarts stopped output.
    this.restartOnAnyChar(fx);

    // 8. CR and NL mapping.
    if (c === CR) {
      if (has(t.iflag, IGNCR)) return;
      if (has(t.iflag, ICRNL)) c = NL;
    } else if (c === NL && has(t.iflag, INLCR)) {
      c = CR;
    }

    // 9. Canonical editing and line ends.
    if (has(t.lflag, ICANON) && this.receiveCanonical(c, fx)) return;

    // 10. Echo and store. A NL that got here (mapped from CR) echoes as a line feed, not ^J.
    if (has(t.lflag, ECHO)) {
      this.finishErasing();
      if (c === NL) {
        this.echoRaw(NL);
      } else {
        this.markLineStartColumn();
        this.echoChar(c);
      }
      this.echo.mark();
    }
    this.storeWithParmrk(c);
  }

  /** A byte stored as it is (n_tty_receive_char). */
  private receiveOrdinary(c: number, fx: Effects): void {
    this.restartOnAnyChar(fx);
    if (has(this.t.lflag, ECHO)) {
      this.finishErasing();
      this.markLineStartColumn();
      this.echoChar(c);
      this.echo.mark();
    }
    this.storeWithParmrk(c);
  }

  private receiveSignalChar(action: SignalName | 'checkpoint', c: number, fx: Effects): void {
    const t = this.t;
    if (action !== 'checkpoint') fx.control.push({ kind: 'signal', name: action });
    if (!has(t.lflag, NOFLSH)) {
      // The echo buffer counts as output; what was typed ahead must not reach the next reader.
      this.echo.clear();
      fx.control.push({ kind: 'flush', queue: 'output' });
      this.flushInput();
      fx.control.push({ kind: 'flush', queue: 'input' });
    }
    if (has(t.iflag, IXON)) this.start(fx);
    if (has(t.lflag, ECHO)) {
      this.echoChar(c);
      this.echo.mark();
    } else {
      this.echo.writeMarked(t, this.stopped, fx.echo);
    }
    if (action === 'checkpoint') fx.checkpoint = true;
  }

  /** Canonical-mode characters (n_tty_receive_char_canon); false if `c` is none of them. */
  private receiveCanonical(c: number, fx: Effects): boolean {
    const t = this.t;
    const lflag = t.lflag;

    if (isEditChar(t, c)) {
      this.erase(c);
      this.echo.mark();
      return true;
    }

    if (isCc(t, VLNEXT, c) && has(lflag, IEXTEN)) {
      this.lnext = true;
      if (has(lflag, ECHO)) {
        this.finishErasing();
        if (has(lflag, ECHOCTL)) {
          // Show `^` and put the cursor on it: the quoted character will overwrite it.
          this.echoRaw(0x5e);
          this.echoRaw(BS);
          this.echo.mark();
        }
      }
      return true;
    }

    if (isCc(t, VREPRINT, c) && has(lflag, ECHO) && has(lflag, IEXTEN)) {
      this.finishErasing();
      this.echoChar(c);
      this.echoRaw(NL);
      for (const b of this.line) this.echoChar(b);
      this.echo.mark();
      return true;
    }

    if (c === NL) {
      if (has(lflag, ECHO | ECHONL)) {
        this.echoRaw(NL);
        this.echo.mark();
      }
      this.endLine(NL, fx);
      return true;
    }

    if (isCc(t, VEOF, c)) {
      // EOF ends the line without being part of it (and without echo).
      this.endLine(VDISABLE, fx);
      return true;
    }

    if (isExtraLineEnd(t, c)) {
      if (has(lflag, ECHO)) {
        this.markLineStartColumn();
        this.echoChar(c);
        this.echo.mark();
      }
      if (c === 0xff && has(t.iflag, PARMRK)) this.store(c);
      this.endLine(c, fx);
      return true;
    }

    return false;
  }

  /** ERASE, WERASE and KILL (the kernel's eraser()). */
  private erase(c: number): void {
    const t = this.t;
    const lflag = t.lflag;
    if (this.line.length === 0) return;

    // Compared in this order: if WERASE and KILL are the same character, it is a WERASE.
    const kind = isCc(t, VERASE, c) ? 'erase' : isCc(t, VWERASE, c) ? 'werase' : 'kill';
    if (kind === 'kill') {
      if (!has(lflag, ECHO)) {
        this.line = [];
        return;
      }
      if (!has(lflag, ECHOK) || !has(lflag, ECHOKE) || !has(lflag, ECHOE)) {
        // No visual erase: show the KILL character, and a line feed under ECHOK.
        this.line = [];
        this.finishErasing();
        this.echoChar(t.cc[VKILL]!);
        if (has(lflag, ECHOK)) this.echoRaw(NL);
        return;
      }
    }

    const utf8 = has(t.iflag, IUTF8);
    let seenAlnums = 0;
    while (this.line.length > 0) {
      // One character: a UTF-8 sequence as a whole under IUTF8, never a part of one.
      let start = this.line.length - 1;
      while (utf8 && isUtf8Continuation(this.line[start]!) && start > 0) start--;
      const first = this.line[start]!;
      if (utf8 && isUtf8Continuation(first)) break;

      if (kind === 'werase') {
        // A word is letters, digits and `_` (BSD's ALTWERASE), after any other characters.
        if (isAlnum(first) || first === 0x5f) seenAlnums++;
        else if (seenAlnums > 0) break;
      }
      const erased = this.line.splice(start);
      if (has(lflag, ECHO)) this.echoErase(kind, erased);
      if (kind === 'erase') break;
    }
    if (this.line.length === 0 && has(lflag, ECHO)) this.finishErasing();
  }

  /** The echo of one erased character. */
  private echoErase(kind: 'erase' | 'werase' | 'kill', erased: number[]): void {
    const t = this.t;
    const lflag = t.lflag;
    const first = erased[0]!;
    if (has(lflag, ECHOPRT)) {
      // Hardcopy terminals: print what is erased between `\` and `/`.
      if (!this.erasing) {
        this.echoRaw(0x5c);
        this.erasing = true;
      }
      this.echoChar(first);
      for (const b of erased.slice(1)) {
        this.echoRaw(b);
        this.echo.add({ op: 'back' });
      }
    } else if (kind === 'erase' && !has(lflag, ECHOE)) {
      this.echoChar(t.cc[VERASE]!);
    } else if (first === TAB) {
      this.echoEraseTab();
    } else {
      const rubout = (): void => [BS, 0x20, BS].forEach((b) => this.echoRaw(b));
      // `^X` took two columns; other control characters none.
      if (isCntrl(first) && has(lflag, ECHOCTL)) rubout();
      if (!isCntrl(first) || has(lflag, ECHOCTL)) rubout();
    }
  }

  /** How far back a tab goes depends on the columns used since the previous tab or line start. */
  private echoEraseTab(): void {
    let columns = 0;
    let afterTab = false;
    for (let i = this.line.length - 1; i >= 0; i--) {
      const b = this.line[i]!;
      if (b === TAB) {
        afterTab = true;
        break;
      }
      if (isCntrl(b)) {
        if (has(this.t.lflag, ECHOCTL)) columns += 2;
      } else if (!(has(this.t.iflag, IUTF8) && isUtf8Continuation(b))) {
        columns++;
      }
    }
    this.echo.add({ op: 'erase-tab', columns: columns & 7, afterTab });
  }

  // ---- echo helpers -------------------------------------------------------------------------

  /** A byte echoed as it is. */
  private echoRaw(c: number): void {
    this.echo.add(c === 0xff ? { op: 'ff' } : { op: 'byte', byte: c });
  }

  /** A byte echoed as the user should see it: control characters as `^X` under ECHOCTL. */
  private echoChar(c: number): void {
    if (c !== TAB && isCntrl(c) && has(this.t.lflag, ECHOCTL)) this.echo.add({ op: 'ctl', byte: c });
    else this.echoRaw(c);
  }

  /** ECHOPRT: close the `\...` erase sequence. */
  private finishErasing(): void {
    if (this.erasing) {
      this.echoRaw(0x2f);
      this.erasing = false;
    }
  }

  /** The first character of a line records the column the line starts in (for tab erase). */
  private markLineStartColumn(): void {
    if (this.lineEmpty()) this.echo.add({ op: 'canon-col' });
  }

  // ---- queues and flow ----------------------------------------------------------------------

  private lineEmpty(): boolean {
    return has(this.t.lflag, ICANON) ? this.line.length === 0 : !this.storedSinceFlush;
  }

  /** Reads return lines, not bytes (EXTPROC makes reads raw even under ICANON). */
  private canonicalReads(): boolean {
    return has(this.t.lflag, ICANON) && !has(this.t.lflag, EXTPROC);
  }

  private store(c: number): void {
    if (this.canonicalReads()) {
      this.line.push(c);
    } else {
      this.unpublished.push(c);
      this.storedSinceFlush = true;
    }
  }

  /** PARMRK marks errors with 0xff, so a real 0xff is doubled. */
  private storeWithParmrk(c: number): void {
    if (c === 0xff && has(this.t.iflag, PARMRK)) this.store(c);
    this.store(c);
  }

  /** A line end: the line becomes readable; an EOF (stored as NUL) is not part of what is read. */
  private endLine(c: number, fx: Effects): void {
    this.line.push(c);
    const end = c === VDISABLE ? this.line.length - 1 : this.line.length;
    fx.reads.push(Uint8Array.from(this.line.slice(0, end)));
    this.line = [];
  }

  /** Non-canonical input becomes readable at the end of each receive. */
  private publish(fx: Effects): void {
    if (this.unpublished.length === 0) return;
    const bytes = this.unpublished;
    this.unpublished = [];
    // Under EXTPROC and ICANON, a read of exactly the EOF character returns end-of-file.
    const eof = has(this.t.lflag, ICANON) && bytes.length === 1 && bytes[0] === this.t.cc[VEOF];
    fx.reads.push(eof ? new Uint8Array(0) : Uint8Array.from(bytes));
  }

  /**
   * A canonical line never exceeds MAX_CANON_LINE bytes: when it is full, the next byte
   * (whatever it is) first drops the line's last byte.
   */
  private makeRoom(): void {
    if (this.canonicalReads() && this.line.length >= MAX_CANON_LINE) this.line.pop();
  }

  private flushInput(): void {
    this.line = [];
    this.unpublished = [];
    this.storedSinceFlush = false;
    this.erasing = false;
  }

  private restartOnAnyChar(fx: Effects): void {
    if (this.stopped && has(this.t.iflag, IXON) && has(this.t.iflag, IXANY)) {
      this.start(fx);
      this.echo.writeMarked(this.t, this.stopped, fx.echo);
    }
  }

  private start(fx: Effects): void {
    if (!this.stopped) return;
    this.stopped = false;
    fx.control.push({ kind: 'start-output' });
  }

  private stop(fx: Effects): void {
    if (this.stopped) return;
    this.stopped = true;
    fx.control.push({ kind: 'stop-output' });
  }
}
