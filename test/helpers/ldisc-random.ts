/**
 * Seeded random terminal settings and keystrokes for the differential line-discipline test.
 * Keystrokes favour the characters that mean something under the drawn settings.
 */
import * as T from '../../src/termios/termios.js';
import type { Random } from './prng.js';

const pick = <V>(rng: Random, values: readonly V[]): V => values[Math.floor(rng() * values.length)]!;
const chance = (rng: Random, p: number): boolean => rng() < p;

function toggle(rng: Random, flags: number, bits: readonly number[], p: number): number {
  for (const bit of bits) if (chance(rng, p)) flags ^= bit;
  return flags;
}

const EDITABLE_CCS = [T.VINTR, T.VQUIT, T.VERASE, T.VKILL, T.VEOF, T.VSTART, T.VSTOP, T.VSUSP, T.VEOL, T.VREPRINT, T.VWERASE, T.VLNEXT, T.VEOL2];

/** A new pty's settings with random flags toggled and some control characters moved or disabled. */
export function randomTermios(rng: Random): T.Termios {
  const t = T.newPtyTermios();
  t.iflag = toggle(rng, t.iflag, [T.ISTRIP, T.IGNCR, T.ICRNL, T.INLCR, T.IUCLC, T.IXON, T.IXANY, T.IUTF8, T.IMAXBEL], 0.3);
  if (chance(rng, 0.05)) t.iflag ^= T.PARMRK;
  t.oflag = toggle(rng, t.oflag, [T.OPOST, T.OLCUC, T.ONLCR, T.OCRNL, T.ONOCR, T.ONLRET], 0.3);
  if (chance(rng, 0.3)) t.oflag |= pick(rng, [T.TAB1, T.TAB2, T.TAB3, T.TAB3]);
  t.lflag = toggle(rng, t.lflag, [T.ISIG, T.ICANON, T.ECHO, T.ECHOE, T.ECHOK, T.ECHONL, T.NOFLSH, T.ECHOCTL, T.ECHOPRT, T.ECHOKE, T.IEXTEN], 0.25);
  if (chance(rng, 0.03)) t.lflag ^= T.EXTPROC;
  for (const index of EDITABLE_CCS) {
    if (!chance(rng, 0.15)) continue;
    t.cc[index] = pick(rng, [T.VDISABLE, Math.floor(rng() * 32), Math.floor(rng() * 32), 0x7f, pick(rng, [...'aZ_ \t#'].map((c) => c.charCodeAt(0))), 0xff, 0x85]);
  }
  t.ckpt = T.VDISABLE; // the kernel knows no ckpt
  return t;
}

const PRINTABLE = [...'abcxyzABCXYZ019_ .,-/~'].map((c) => c.charCodeAt(0));
const UTF8_CHARS = ['é', 'ß', 'ą', '€', '好', '🙂'].map((s) => [...Buffer.from(s)]);

function randomKey(rng: Random, t: T.Termios): number[] {
  const r = rng();
  if (r < 0.35) return [pick(rng, PRINTABLE)];
  if (r < 0.6) return [t.cc[pick(rng, EDITABLE_CCS)]!];
  if (r < 0.7) return [pick(rng, [0x09, 0x0d, 0x0a, 0x08, 0x7f, 0x15, 0x17, 0x16, 0x12])];
  if (r < 0.8) return pick(rng, UTF8_CHARS);
  if (r < 0.85) return pick(rng, UTF8_CHARS).slice(1); // stray continuation bytes
  return [Math.floor(rng() * 256)];
}

export function randomKeystrokes(rng: Random, t: T.Termios, maxKeys: number): Uint8Array {
  const bytes: number[] = [];
  const keys = 1 + Math.floor(rng() * maxKeys);
  for (let i = 0; i < keys; i++) bytes.push(...randomKey(rng, t));
  return Uint8Array.from(bytes);
}

/** A settings change a program might make mid-session: a few mode flags flipped. */
export function changedTermios(rng: Random, t: T.Termios): T.Termios {
  const next = T.cloneTermios(t);
  next.lflag = toggle(rng, next.lflag, [T.ICANON, T.ICANON, T.ECHO, T.ISIG, T.IEXTEN, T.ECHOPRT, T.ECHONL], 0.3);
  next.iflag = toggle(rng, next.iflag, [T.IXON, T.ICRNL, T.IXANY], 0.2);
  if (chance(rng, 0.03)) next.lflag ^= T.EXTPROC;
  return next;
}
