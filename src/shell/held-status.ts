/**
 * Plain mode never draws over a program's screen. A status line for a job that runs on
 * (a refusal, a snapshot) while a program owns the screen — the alternate screen (less,
 * watch, man, mc) or a screen it draws by position or clears again and again (top, a
 * `clear; date` loop; lines after one `clear` are not drawn) — would be printed into it,
 * so the terminal rings its bell and the line waits until the normal screen is back (or
 * the shell waits at its prompt again), then goes on a line of its own as usual.
 */
import type { Session } from '../host/session.js';

const LOOK_AGAIN_MS = 200;
const BEL = '\x07';

export class HeldStatus {
  private readonly held: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  /** `print` puts a line on the terminal (on a line of its own); `bell` rings. */
  constructor(
    private readonly session: Pick<Session, 'screen' | 'shellAtPrompt'>,
    private readonly print: (text: string) => void,
    private readonly bell: (signal: string) => void,
  ) {}

  /** Show `text` now, or once the screen is the shell's again. */
  async show(text: string): Promise<void> {
    if (this.held.length === 0 && !(await this.owned())) {
      this.print(text);
      return;
    }
    this.held.push(text);
    this.bell(BEL);
    this.timer ??= setTimeout(() => void this.lookAgain(), LOOK_AGAIN_MS);
  }

  /** The session is over: what is still held goes out now. */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const text of this.held.splice(0)) this.print(text);
  }

  private async owned(): Promise<boolean> {
    return (await this.session.screen.state()).owned && !this.session.shellAtPrompt();
  }

  private async lookAgain(): Promise<void> {
    this.timer = undefined;
    if (await this.owned()) {
      this.timer = setTimeout(() => void this.lookAgain(), LOOK_AGAIN_MS);
      return;
    }
    for (const text of this.held.splice(0)) this.print(text);
  }
}
