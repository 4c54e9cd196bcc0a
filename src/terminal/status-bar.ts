/**
 * The status line's widget: the bottom row of the screen, showing the session's facts
 * and the last message, or the host commands while the prefix key waits for one.
 */
import blessed from 'blessed';
import type { Widgets } from 'blessed';
import { keyName, type PrefixReader } from './keys.js';
import { formatStatus, type StatusFacts } from './status.js';

export class StatusBar {
  private message = '';
  private readonly box: Widgets.BoxElement;

  /** `facts` are read at each update; `redraw` asks for a frame. */
  constructor(
    private readonly screen: Widgets.Screen,
    private readonly prefix: PrefixReader,
    private readonly facts: () => Pick<StatusFacts, 'tty' | 'foreground' | 'key'>,
    private readonly redraw: () => void,
  ) {
    this.box = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, style: { inverse: true } });
  }

  show(message: string): void {
    this.message = message;
    this.update();
  }

  update(): void {
    const p = keyName(this.prefix.prefix);
    const message = this.prefix.pending
      ? `${p} … f freeze  s snapshot  l images  [ scrollback  ? help  q quit  ${p} send ${p}`
      : this.message;
    this.box.setContent(formatStatus({ ...this.facts(), message, hint: `${p} ? help` }, this.screen.width as number));
    this.redraw();
  }
}
