/**
 * Who the key passes through to (src/host/pass-list.ts: `--pass`, `stty ckpt-pass`), and
 * plain mode's status line held while a program owns the screen (src/shell/held-status.ts).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PASS, formatPassList, matchesList, parsePassList, passOption, SHELLS } from '../src/host/pass-list.js';
import { CkptyError } from '../src/base/errors.js';
import { HeldStatus } from '../src/shell/held-status.js';

describe('the pass list', () => {
  it('has the shells and the editors that use ^E by default', () => {
    expect(DEFAULT_PASS).toEqual(expect.arrayContaining([...SHELLS, 'emacs', 'mg', 'jed', 'joe']));
    expect(passOption(undefined)).toEqual(DEFAULT_PASS);
  });

  it('replaces with names, adds with +, removes with -, empties with none', () => {
    expect(parsePassList('emacs,zsh')).toEqual(['emacs', 'zsh']);
    expect(parsePassList('+python3,-bash', ['bash', 'zsh'])).toEqual(['zsh', 'python3']);
    expect(parsePassList('+zsh', ['zsh'])).toEqual(['zsh']);
    expect(parsePassList('none', ['zsh'])).toEqual([]);
    expect(formatPassList([])).toBe('none');
    expect(formatPassList(['a', 'b'])).toBe('a,b');
  });

  it('refuses what is not a program name, on the command line as a usage error', () => {
    expect(parsePassList('emacs,a b')).toMatch(/'a b' is not a program name/);
    expect(parsePassList(' , ')).toMatch(/empty list/);
    expect(() => passOption('x/y')).toThrow(CkptyError);
  });

  it('matches a process by its name or its executable\'s, with * for any characters', () => {
    expect(matchesList(['emacs*'], ['emacs', 'emacs-nox'])).toBe(true);
    expect(matchesList(['emacs-*'], ['emacs'])).toBe(false);
    expect(matchesList(['emacs-*'], ['emacs', 'emacs-nox'])).toBe(true);
    expect(matchesList(['bash'], ['bashful'])).toBe(false);
    expect(matchesList(['a.b'], ['axb'])).toBe(false);
    expect(matchesList(DEFAULT_PASS, [])).toBe(false);
    expect(matchesList(['a*a'], ['a'])).toBe(false);
    expect(matchesList(['*'], [''])).toBe(true);
  });

  it('matches * as a regular expression would, on every short pattern and name (an oracle, seeded)', () => {
    let seed = 42;
    const pick = (alphabet: string, max: number): string => {
      let out = '';
      for (let n = (seed = (seed * 1103515245 + 12345) >>> 0) % (max + 1); n > 0; n--)
        out += alphabet[(seed = (seed * 1103515245 + 12345) >>> 0) % alphabet.length];
      return out;
    };
    for (let i = 0; i < 5000; i++) {
      const pattern = pick('ab*', 6);
      const name = pick('ab', 6);
      const oracle = new RegExp(`^${pattern.replaceAll('*', '.*')}$`).test(name);
      expect(matchesList([pattern], [name]), `${pattern} ~ ${name}`).toBe(oracle);
    }
  });
});

describe('a status line held while a program owns the screen', () => {
  function rig(owned: boolean[]) {
    const printed: string[] = [];
    let bells = 0;
    let atPrompt = false;
    const session = {
      screen: { state: async () => ({ owned: owned.shift() ?? false }) },
      shellAtPrompt: () => atPrompt,
    };
    const held = new HeldStatus(session as never, (text) => printed.push(text), () => bells++);
    return { held, printed, bells: () => bells, prompt: () => (atPrompt = true) };
  }

  it('is printed at once when the screen is the shell\'s', async () => {
    const { held, printed, bells } = rig([false]);
    await held.show('ckpt: refused');
    expect(printed).toEqual(['ckpt: refused']);
    expect(bells()).toBe(0);
  });

  it('rings the bell and waits for the normal screen, keeping the order of several', async () => {
    const { held, printed, bells } = rig([true, true, true, false]);
    await held.show('first');
    await held.show('second');
    expect(printed).toEqual([]);
    expect(bells()).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(printed).toEqual(['first', 'second']);
    held.dispose();
  });

  it('goes out when the shell waits at its prompt, and at the end of the session', async () => {
    const waiting = rig([true, true, true, true, true]);
    await waiting.held.show('one');
    waiting.prompt();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(waiting.printed).toEqual(['one']);
    const ended = rig([true, true]);
    await ended.held.show('two');
    ended.held.dispose();
    expect(ended.printed).toEqual(['two']);
  });
});
