/**
 * The host's own windows over the pane: help, the image list, a yes/no
 * question. They take the keyboard while open (the caller routes keys to
 * blessed) and call `done` when they close; none writes into the pane.
 */
import blessed from 'blessed';
import type { Widgets } from 'blessed';
import { COMMAND_KEYS, keyName } from './keys.js';
import { formatImageEntry, type ImageEntry } from './images.js';

const frame = {
  border: 'line' as const,
  top: 'center',
  left: 'center',
  tags: false,
  style: { border: { fg: 'cyan' } },
};

/** Lines of the help overlay. */
export function helpText(prefix: number, ckpt: string): string[] {
  const p = keyName(prefix);
  return [
    `The checkpoint key ${ckpt} freezes the foreground job when it reads`,
    'the terminal with ISIG on (stty ckpt KEY changes it). Host commands:',
    '',
    ...COMMAND_KEYS.map(({ key, help }) => `  ${p} ${key}   ${help}`),
    `  ${p} ${p}  send ${p} itself to the program`,
    '',
    'Press any key to close.',
  ];
}

export function showHelp(screen: Widgets.Screen, prefix: number, ckpt: string, done: () => void): void {
  const lines = helpText(prefix, ckpt);
  const box = blessed.box({
    ...frame,
    parent: screen,
    label: ' ckpty help ',
    width: Math.min(screen.width as number, Math.max(...lines.map((l) => l.length)) + 4),
    height: Math.min(screen.height as number, lines.length + 2),
    content: lines.join('\n'),
    padding: { left: 1, right: 1 },
  });
  screen.render();
  screen.once('keypress', () => {
    box.destroy();
    done();
  });
}

/** Asks a yes/no question; `answer(true)` only for y/Y. */
export function ask(screen: Widgets.Screen, question: string, answer: (yes: boolean) => void): void {
  const text = `${question} (y/n)`;
  const box = blessed.box({
    ...frame,
    parent: screen,
    width: Math.min(screen.width as number, text.length + 4),
    height: 3,
    content: text,
    padding: { left: 1, right: 1 },
  });
  screen.render();
  screen.once('keypress', (ch: string | undefined) => {
    box.destroy();
    answer(ch === 'y' || ch === 'Y');
  });
}

/**
 * The images of `dir`; Enter on a readable one calls `choose`, Esc or q
 * closes. An empty list says so and closes on any key.
 */
export function showImageList(
  screen: Widgets.Screen,
  dir: string,
  entries: ImageEntry[],
  choose: (entry: ImageEntry) => void,
  done: () => void,
): void {
  if (entries.length === 0) {
    const text = `No images in ${dir}. Press any key.`;
    const box = blessed.box({ ...frame, parent: screen, width: Math.min(screen.width as number, text.length + 4), height: 3, content: text, padding: { left: 1, right: 1 } });
    screen.render();
    screen.once('keypress', () => {
      box.destroy();
      done();
    });
    return;
  }
  const nameWidth = Math.min(32, Math.max(...entries.map((e) => e.name.length)));
  const list = blessed.list({
    ...frame,
    parent: screen,
    label: ` images in ${dir} — Enter thaws, Esc closes `,
    width: '90%',
    height: Math.min((screen.height as number) - 2, entries.length + 2),
    items: entries.map((entry) => formatImageEntry(entry, nameWidth)),
    keys: true,
    vi: true,
    style: { selected: { inverse: true }, border: { fg: 'cyan' } },
  });
  const close = () => {
    list.destroy();
    done();
  };
  list.on('select', (_item: unknown, index: number) => {
    const entry = entries[index];
    if (!entry || entry.problem) return;
    close();
    choose(entry);
  });
  list.key(['escape', 'q'], close);
  list.focus();
  screen.render();
}
