/**
 * The terminal modes a shell expects back after its job is frozen: the ones the job
 * started with. A shell adopts whatever modes a job leaves when it exits normally
 * (bash saves them as its own), so the freezer must leave exactly these before the
 * frozen job's end is seen.
 *
 * The host samples the slave's modes whenever a shell waits at its prompt (it reads
 * them for every keystroke anyway). A shell without a line editor (dash, sh) waits in
 * canonical mode: that sample is its modes exactly. A line editor (readline, zle) runs
 * the prompt in modes of its own and puts the shell's back before it starts a job; the
 * fields it changes are known (readline's prepare_terminal_settings: ICANON, ECHO, ISIG,
 * ICRNL, INLCR, ISTRIP, INPCK, IXON, IXANY, VMIN, VTIME, VLNEXT, VDISCARD), so they are
 * taken from the last canonical-mode sample instead and every other field from the
 * prompt's. Until there is a canonical-mode sample, those fields have the values the
 * session's pty started with (node-pty's src/unix/pty.cc), which no editor has touched.
 */
import {
  ECHO,
  ICANON,
  ICRNL,
  INLCR,
  INPCK,
  ISIG,
  ISTRIP,
  IXANY,
  IXON,
  VDISCARD,
  VLNEXT,
  VMIN,
  VTIME,
  type Termios,
} from '../termios/termios.js';

const EDITOR_IFLAG = ICRNL | INLCR | ISTRIP | INPCK | IXON | IXANY;
const EDITOR_LFLAG = ICANON | ECHO | ISIG;
const EDITOR_CC = [VMIN, VTIME, VLNEXT, VDISCARD];

/** The line-editing fields as a session's pty starts (node-pty sets ICRNL IXON IXANY, ^V, ^O). */
const START: Pick<Termios, 'iflag' | 'lflag' | 'cc'> = {
  iflag: ICRNL | IXON | IXANY,
  lflag: ICANON | ECHO | ISIG,
  cc: Object.assign(new Array<number>(VLNEXT + 1).fill(0), { [VMIN]: 1, [VTIME]: 0, [VLNEXT]: 0x16, [VDISCARD]: 0x0f }),
};

export class ShellModes {
  /** The last sample taken in canonical mode (the editor's fields only are used). */
  private cooked: Pick<Termios, 'iflag' | 'lflag' | 'cc'> = START;
  private prompt: Termios | undefined;

  /** The slave's modes while a shell waits at its prompt. */
  sample(modes: Termios): void {
    this.prompt = modes;
    if ((modes.lflag & ICANON) !== 0) this.cooked = modes;
  }

  /** The modes the shell had when it started the job in the foreground now; undefined before any prompt. */
  expected(): Termios | undefined {
    const { prompt, cooked } = this;
    if (!prompt || (prompt.lflag & ICANON) !== 0) return prompt;
    const cc = [...prompt.cc];
    for (const index of EDITOR_CC) cc[index] = cooked.cc[index] ?? 0;
    return {
      ...prompt,
      iflag: (prompt.iflag & ~EDITOR_IFLAG) | (cooked.iflag & EDITOR_IFLAG),
      lflag: (prompt.lflag & ~EDITOR_LFLAG) | (cooked.lflag & EDITOR_LFLAG),
      cc,
    };
  }
}
