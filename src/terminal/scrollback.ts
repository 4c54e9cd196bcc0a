/**
 * The scrollback mode: the pane shows its history, paged by the keyboard, with the
 * position on the status line (as of the frame that shows it); q or Esc goes back to
 * the live screen. Opened as an overlay: it has the keyboard (through blessed) until it
 * calls `done`.
 */
import type { Widgets } from 'blessed';
import type { TerminalPane } from './pane.js';
import type { StatusBar } from './status-bar.js';
import type { PaneView } from './view.js';

export interface ScrollbackParts {
  screen: Widgets.Screen;
  pane: TerminalPane;
  view: PaneView;
  status: StatusBar;
  /** Rows the pane has now (a page keeps one of them). */
  paneRows(): number;
}

export function browseScrollback({ screen, pane, view, status, paneRows }: ScrollbackParts, done: () => void): void {
  const page = (): number => Math.max(1, paneRows() - 1);
  const show = (): void =>
    status.show(`scrollback: ${pane.historyLength - pane.viewTop} of ${pane.historyLength} lines up — PgUp PgDn ↑ ↓ g G, q or Esc leaves`);
  const leave = (): void => {
    screen.removeListener('keypress', onKey);
    pane.off('frame', show);
    pane.scrollToBottom();
    status.show('');
    done();
  };
  const onKey = (ch: string | undefined, key: { name?: string }): void => {
    switch (key.name) {
      case 'pageup': pane.scrollBy(-page()); break;
      case 'pagedown': case 'space': pane.scrollBy(page()); break;
      case 'up': case 'k': pane.scrollBy(-1); break;
      case 'down': case 'j': pane.scrollBy(1); break;
      case 'home': pane.scrollToTop(); break;
      case 'end': pane.scrollToBottom(); break;
      case 'escape': case 'q': leave(); return;
      default:
        if (ch === 'g') pane.scrollToTop();
        else if (ch === 'G') pane.scrollToBottom();
    }
  };
  // No window covers the pane here: its cursor stays shown.
  view.showCursor = true;
  screen.on('keypress', onKey);
  pane.on('frame', show);
  pane.scrollBy(-page());
}
