/**
 * The stty model against the real GNU stty on a real pty: for each case the same
 * command runs in both, then `-a`, `-g` and plain output must be byte-identical
 * (the model without its ckpt entry), and `-g` strings must round-trip both ways.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPtyTermios, ptyTermios, termiosEqual, KERNEL_NCCS, CKPT_DEFAULT, type Termios, type WindowSize } from '../src/termios/termios.js';
import {
  applySaved,
  applySttyArgs,
  formatAll,
  formatChanged,
  formatCchar,
  formatGnuSaved,
  formatSaved,
  insertCkptIntoAll,
  insertCkptIntoChanged,
  parseGnuAll,
  parseSaved,
  runStty,
} from '../src/termios/stty.js';
import { COMBINATION_WORDS, CONTROL_CHARS, FLAG_WORDS } from '../src/termios/words.js';
import { seededRandom } from './helpers/prng.js';
import { PtyHolder, gnuStty, runGnuCases, type GnuCase } from './helpers/termios-gnu.js';

let pty: PtyHolder;
beforeAll(async () => {
  pty = await PtyHolder.open();
});
afterAll(async () => {
  await pty?.close();
});

const FRESH = newPtyTermios();
const RESET = [formatGnuSaved(FRESH).trim(), 'line', '0', 'rows', '0', 'cols', '0'];
const GNU_CCHARS = CONTROL_CHARS.filter((entry) => entry.slot !== 'ckpt' && !entry.hidden).map((entry) => entry.name);

/**
 * GNU's complaint when the kernel's termios differs from the request: pty rules (see
 * ptyTermios), glibc's speed fields. Its wording depends on glibc and timing.
 */
const DEVICE_MISMATCH = /^stty: \/dev\/\S+: (unable to perform all requested operations|Invalid argument)\n/gm;

interface Mismatch {
  args: readonly string[];
  what: string;
  gnu: string;
  model: string;
}

function zeroTermios(): Termios {
  return { iflag: 0, oflag: 0, cflag: 0, lflag: 0, line: 0, cc: new Array<number>(KERNEL_NCCS).fill(0), ckpt: CKPT_DEFAULT };
}

/** Run every case in GNU stty and in the model, from a fresh pty's settings; list differences. */
function compareWithGnu(cases: readonly GnuCase[]): Mismatch[] {
  const outcomes = runGnuCases(pty, RESET, cases);
  const mismatches: Mismatch[] = [];
  cases.forEach((gnuCase, index) => {
    const gnu = outcomes[index]!;
    const check = (what: string, gnuText: string, modelText: string | undefined): void => {
      if (gnuText !== modelText) mismatches.push({ args: gnuCase.args, what, gnu: gnuText, model: String(modelText) });
    };
    const run = runStty(FRESH, gnuCase.args, { dialect: 'gnu' });
    const gnuStderr = gnu.stderr.replace(DEVICE_MISMATCH, '');
    check('stdout', gnu.stdout, run.stdout);
    check('stderr', gnuStderr, run.stderr);
    // GNU reports a device mismatch (exit 1) when the pty changed what it asked for
    // (see ptyTermios), and after speed changes (glibc's c_ispeed field).
    const t = ptyTermios(run.termios);
    if (!termiosEqual(t, run.termios)) check('pty mismatch reported', 'yes', gnuStderr !== gnu.stderr ? 'yes' : 'no');
    if (gnuStderr === gnu.stderr) check('status', String(gnu.status), String(run.status));

    const width = gnuCase.columns;
    const size: WindowSize = run.size;
    check('-a', gnu.all, formatAll(t, { size, width, ckpt: false }));
    check('-g', gnu.saved, formatGnuSaved(t));
    check('plain', gnu.changed, formatChanged(t, { width, ckpt: false }));
    check('-a with ckpt', insertCkptIntoAll(gnu.all, t.ckpt, width) ?? 'undefined', formatAll(t, { size, width }));
    check('plain with ckpt', insertCkptIntoChanged(gnu.changed, t.ckpt, width) ?? 'undefined', formatChanged(t, { width }));

    const saved = parseSaved(gnu.saved.trim());
    const fromSaved = zeroTermios();
    if (saved) applySaved(fromSaved, saved);
    fromSaved.line = t.line;
    check('parseSaved(GNU -g)', formatAll(t, { size }), formatAll(fromSaved, { size }));
    const parsed = parseGnuAll(gnu.all);
    check('parseGnuAll(GNU -a)', gnu.all, parsed && formatAll(parsed.termios, { size: parsed.size ?? size, width, ckpt: false }));
  });
  return mismatches;
}

function expectNoMismatch(mismatches: Mismatch[], note = ''): void {
  const shown = mismatches.slice(0, 5).map((m) => `stty ${JSON.stringify(m.args)} (${m.what}):\n  GNU:   ${JSON.stringify(m.gnu)}\n  model: ${JSON.stringify(m.model)}`);
  expect(shown.join('\n'), `${mismatches.length} mismatches ${note}`).toBe('');
}

const CCHAR_SYNTAXES = [
  '^C', '^c', '^?', '^-', 'undef', '^@', '^[', '^~', '^!', '^?x', 'x', 'M', '-', ';', ' ', '<', '^', '', '0', '7',
  '07', '0x1b', '0X1B', '127', '128', '255', '0377', '0xff', '1b', '256', 'abc', '0x', 'é', ' 9', '+9', '08', 'B',
];

const NUMBER_SYNTAXES = ['0', '5', '255', '0x10', '010', '+3', ' 7', '0b', '0B', '256', '-1', 'x', '1b', 'b', '99999999999', '1e3'];

describe('stty model vs GNU stty 9.1 on a real pty', () => {
  it('starts from what a fresh pty really holds', () => {
    expect(gnuStty(pty, ['-g'])).toBe(formatGnuSaved(FRESH));
    expect(gnuStty(pty, ['-a'])).toBe(formatAll(FRESH, { size: { rows: 0, cols: 0 }, ckpt: false }));
  });

  it('handles every flag word, with and without -', () => {
    const cases: GnuCase[] = [];
    for (const flag of FLAG_WORDS) {
      cases.push({ args: [flag.name] }, { args: [`-${flag.name}`] });
      // From a state where everything differs, so that clearing shows too.
      cases.push({ args: ['raw', 'tab3', 'cs5', 'parenb', 'iutf8', 'xcase', 'flusho', 'extproc', flag.name] });
    }
    expectNoMismatch(compareWithGnu(cases));
  });

  it('handles every combination word, with and without -, from several states', () => {
    const starts = [[], ['raw', 'cs6', 'parodd', 'tab2', 'iutf8', 'ixany', 'xcase', 'intr', '^A', 'min', '9', 'time', '3', 'eof', 'x'], ['sane'], ['-icanon', '-echo', 'nl1', 'ocrnl', 'line', '3']];
    const cases: GnuCase[] = [];
    for (const start of starts) {
      for (const combination of COMBINATION_WORDS) {
        cases.push({ args: [...start, combination.name] }, { args: [...start, `-${combination.name}`] });
      }
    }
    expectNoMismatch(compareWithGnu(cases));
  });

  it('sets every control character in every syntax, and min/time as numbers', () => {
    const cases: GnuCase[] = [];
    for (const name of [...GNU_CCHARS, 'flush']) {
      for (const value of CCHAR_SYNTAXES) cases.push({ args: [name, value] });
    }
    for (const name of ['min', 'time']) {
      for (const value of NUMBER_SYNTAXES) cases.push({ args: ['-icanon', name, value] });
    }
    expectNoMismatch(compareWithGnu(cases));
    // ~700 cases of 6 GNU stty runs each: over a minute on a busy 2-core machine.
  }, 240_000);

  it('shows every byte value like GNU', () => {
    const cases: GnuCase[] = [];
    for (let first = 0; first < 256; first += GNU_CCHARS.length) {
      const args = GNU_CCHARS.flatMap((name, index) => [name, `0x${((first + index) & 0xff).toString(16)}`]);
      cases.push({ args });
    }
    expectNoMismatch(compareWithGnu(cases));
  });

  it('handles speeds, line, rows/cols/size and speed', () => {
    const speeds = ['0', '50', '110', '134', '134.5', '300', '9600', '19200', '38400', 'exta', 'extb', '57600', '115200', '921600', '4000000'];
    const cases: GnuCase[] = [
      ...speeds.map((speed) => ({ args: [speed, 'speed'] })),
      ...['9600', '0', '123', 'exta'].flatMap((speed) => [{ args: ['ispeed', speed] }, { args: ['ospeed', speed] }]),
      ...['0', '1', '255', '256', '1b', 'x', '0x10'].map((line) => ({ args: ['line', line] })),
      { args: ['rows', '24', 'cols', '80', 'size'] },
      { args: ['columns', '100', 'size', 'rows', '7', 'size'] },
      { args: ['rows', '70000', 'size'] },
      { args: ['rows', '5', 'rows', 'x'] },
      { args: ['rows', 'x', 'foo'] },
      { args: ['size'] },
      { args: ['speed'] },
    ];
    expectNoMismatch(compareWithGnu(cases));
  });

  it('reports bad arguments and options with GNU texts and status', () => {
    const bad = [
      ['foo'], ['-foo'], ['-'], ['--foo'], ['cs9'], ['-cs8'], ['-ek'], ['-sane'], ['-crt'], ['-dec'], ['-intr'], ['-min'],
      ['-rows'], ['-ispeed'], ['-speed'], ['-size'], ['min'], ['intr'], ['rows'], ['cols'], ['ispeed'], ['ospeed'], ['line'],
      ['icanon', 'foo'], ['icanon', 'intr'], ["a'b"], ['a\\b'], ['a\tb'], ['é'], ['\x01'], ['?x'], ['a b'], [''],
      ['-a'], ['-g'], ['-ag'], ['--all'], ['--save'], ['--al'], ['-a', 'icanon'], ['-g', '--all'], ['-drain'], ['drain'], ['-aecho'],
      ['icanon', '-a'],
    ];
    expectNoMismatch(compareWithGnu(bad.map((args) => ({ args }))));
  });

  it('quotes arguments like GNU in a UTF-8 locale', () => {
    for (const args of [["a'b"], ['a\\b'], ['é'], ['x\u2019y'], ['\x01'], ['min', '300'], ['rows']]) {
      const gnu = spawnSync('stty', ['-F', pty.path, ...args], { env: { ...process.env, LC_ALL: 'C.UTF-8' }, encoding: 'utf8' });
      const model = runStty(FRESH, args, { locale: 'utf8' });
      expect(model.stderr, JSON.stringify(args)).toBe(gnu.stderr);
      expect(model.status).toBe(gnu.status);
    }
  });

  it('reads and writes -g strings like GNU, including odd spellings', () => {
    const gnu = formatGnuSaved(FRESH).trim();
    const fields = gnu.split(':');
    const variants = [
      gnu,
      fields.slice(0, -1).join(':'),
      `${gnu}:0`,
      ['0x' + fields[0], '+' + fields[1], ...fields.slice(2)].join(':'),
      [' ' + fields[0], ...fields.slice(1)].join(':'),
      ['-0', ...fields.slice(1)].join(':'),
      ['-1', ...fields.slice(1)].join(':'),
      [...fields.slice(0, 4), '100', ...fields.slice(5)].join(':'),
      [...fields.slice(0, 4), 'FF', ...fields.slice(5)].join(':'),
      [...fields.slice(0, 4), ...fields.slice(4).map(() => '7')].join(':'),
      `${gnu}:ckpt=5`,
      gnu.toUpperCase(),
    ];
    expectNoMismatch(compareWithGnu(variants.map((saved) => ({ args: [saved] }))));
  });

  it('wraps -a and plain output at every width like GNU', () => {
    const states = [
      [],
      ['-icanon', 'raw', 'intr', '0xff', 'quit', '0x80', 'erase', '0x9f', 'kill', 'undef', 'eof', '0xfe', 'min', '255', 'time', '200'],
      GNU_CCHARS.flatMap((name) => [name, 'undef']),
      ['ixany', 'iutf8', 'olcuc', 'nl1', 'cr3', 'tab1', 'xcase', 'tostop', 'echoprt', 'intr', 'a', 'line', '200', '-echo', '-icanon'],
    ];
    const widths = [1, 2, 5, 9, 10, 11, 20, 30, 40, 50, 60, 64, 68, 69, 70, 71, 72, 73, 75, 77, 78, 79, 80, 81, 82, 90, 100, 132, 250];
    const cases = states.flatMap((args) => widths.map((columns) => ({ args, columns })));
    expectNoMismatch(compareWithGnu(cases));
  });

  it('agrees with GNU on random commands (seeded)', () => {
    const seed = Number(process.env.CKPTY_TEST_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const randomWord = (): string[] => {
      const choice = random();
      if (choice < 0.45) {
        const flag = pick(FLAG_WORDS);
        return [flag.reversible && random() < 0.5 ? `-${flag.name}` : flag.name];
      }
      if (choice < 0.6) {
        const combination = pick(COMBINATION_WORDS);
        return [combination.reversible && random() < 0.5 ? `-${combination.name}` : combination.name];
      }
      if (choice < 0.85) return [pick([...GNU_CCHARS, 'flush']), pick(CCHAR_SYNTAXES.filter((s) => !['é', '256', 'abc', '0x', '1b', '08'].includes(s)))];
      if (choice < 0.92) return [pick(['min', 'time']), String(Math.floor(random() * 256))];
      if (choice < 0.96) return [pick(['9600', '0', '115200', '38400', '300'])];
      return ['line', String(Math.floor(random() * 8))];
    };
    const randomState = (): string => {
      // A -g string for random (possibly odd) flag bits and characters.
      const u32 = (): number => Math.floor(random() * 2 ** 32);
      const t = newPtyTermios();
      t.iflag = u32() & 0x7fff;
      t.oflag = u32() & 0xffff;
      t.cflag = (u32() & 0xc0000ff0) | pick([0o17, 0o15, 0o10002, 0]);
      t.lflag = u32() & 0x3ffff;
      t.cc = t.cc.map(() => (random() < 0.2 ? 0 : Math.floor(random() * 256)));
      return formatGnuSaved(t).trim();
    };
    const cases: GnuCase[] = [];
    for (let index = 0; index < 200; index++) {
      const args = random() < 0.15 ? [randomState()] : [];
      const count = 1 + Math.floor(random() * 8);
      for (let word = 0; word < count; word++) args.push(...randomWord());
      cases.push({ args, ...(random() < 0.2 ? { columns: 20 + Math.floor(random() * 100) } : {}) });
    }
    expectNoMismatch(compareWithGnu(cases), `(seed ${seed}; rerun with CKPTY_TEST_SEED=${seed})`);
  });

  it('accepts the model -g (GNU form) of random states in real stty, which prints it back', () => {
    const random = seededRandom(42);
    const cases: GnuCase[] = [];
    for (let index = 0; index < 60; index++) {
      const t = newPtyTermios();
      t.iflag = Math.floor(random() * 2 ** 32) >>> 0;
      t.oflag = Math.floor(random() * 2 ** 32) >>> 0;
      t.lflag = Math.floor(random() * 2 ** 32) >>> 0;
      t.cflag = ((Math.floor(random() * 2 ** 32) & ~0o10017) | 0o15) >>> 0;
      t.cc = t.cc.map(() => Math.floor(random() * 256));
      cases.push({ args: [formatGnuSaved(t).trim()] });
    }
    const outcomes = runGnuCases(pty, RESET, cases);
    const lost = cases.filter((gnuCase, index) => {
      const saved = parseSaved(gnuCase.args[0]!)!;
      const requested = zeroTermios();
      applySaved(requested, saved);
      return outcomes[index]!.saved !== formatGnuSaved(ptyTermios(requested));
    });
    expect(lost.map((gnuCase) => gnuCase.args[0])).toEqual([]);
  });
});

describe('the ckpt character (not known to GNU: checked against the specification)', () => {
  const size = { rows: 24, cols: 80 };
  const apply = (args: string[], from = FRESH): Termios => {
    const result = applySttyArgs(from, args);
    if (!result.ok) throw new Error(result.error.message);
    return result.termios;
  };

  it('defaults to ^E and is set, disabled and reset like any cchar', () => {
    expect(FRESH.ckpt).toBe(0x05);
    expect(apply(['ckpt', '^T']).ckpt).toBe(0x14);
    expect(apply(['ckpt', 'undef']).ckpt).toBe(0);
    expect(apply(['ckpt', '^-']).ckpt).toBe(0);
    expect(apply(['ckpt', '0x1b']).ckpt).toBe(0x1b);
    expect(apply(['ckpt', 'q']).ckpt).toBe(0x71);
    expect(apply(['sane'], apply(['ckpt', 'undef'])).ckpt).toBe(0x05);
    // Nothing else moves.
    expect(formatGnuSaved(apply(['ckpt', '^T']))).toBe(formatGnuSaved(FRESH));
  });

  it('rejects bad ckpt words with GNU-style errors', () => {
    const error = (args: string[]): string => {
      const result = applySttyArgs(FRESH, args);
      return result.ok ? 'ok' : result.error.stderr();
    };
    expect(error(['ckpt'])).toBe("stty: missing argument to 'ckpt'\nTry 'stty --help' for more information.\n");
    expect(error(['-ckpt'])).toBe("stty: invalid argument '-ckpt'\nTry 'stty --help' for more information.\n");
    expect(error(['ckpt', 'abc'])).toBe("stty: invalid integer argument: 'abc'\n");
    expect(error(['ckpt', '300'])).toBe("stty: invalid integer argument: '300': Numerical result out of range\n");
  });

  it('prints ckpt after discard in -a and in plain output when it differs from ^E', () => {
    expect(formatAll(FRESH, { size })).toContain('werase = ^W; lnext = ^V; discard = ^O; ckpt = ^E; min = 1; time = 0;\n');
    expect(formatChanged(FRESH)).toBe('speed 38400 baud; line = 0;\n-brkint -imaxbel\n');
    expect(formatChanged(apply(['ckpt', '^T']))).toBe('speed 38400 baud; line = 0;\nckpt = ^T;\n-brkint -imaxbel\n');
    expect(formatChanged(apply(['-icanon', 'ckpt', 'undef', 'intr', '0xe1']))).toBe(
      'speed 38400 baud; line = 0;\nintr = M-a; ckpt = <undef>; min = 1; time = 0;\n-brkint -imaxbel\n-icanon\n',
    );
  });

  it('round-trips through the extended -g form, which GNU stty refuses', () => {
    const t = apply(['ckpt', '^T', 'raw', 'intr', '^A']);
    const saved = formatSaved(t);
    expect(saved).toBe(`${formatGnuSaved(t).trim()}:ckpt=14\n`);
    expect(formatAll(apply([saved.trim()]), { size })).toBe(formatAll(t, { size }));
    // A GNU-form string leaves ckpt as it was.
    expect(apply([formatGnuSaved(FRESH).trim()], t).ckpt).toBe(0x14);
    expect(() => gnuStty(pty, [saved.trim()])).toThrow();
  });

  it('formats characters like stty', () => {
    expect([0, 3, 0x1c, 0x7f, 0x20, 0x41, 0x80, 0x9b, 0xa0, 0xe1, 0xff].map(formatCchar)).toEqual([
      '<undef>', '^C', '^\\', '^?', ' ', 'A', 'M-^@', 'M-^[', 'M- ', 'M-a', 'M-^?',
    ]);
  });
});
