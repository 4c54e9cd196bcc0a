/**
 * Line speeds: Linux keeps them as codes in cflag (CBAUD for output, CIBAUD for
 * input), and glibc 2.36's cfgetispeed/cfsetispeed use the CBAUD bits for both, so
 * GNU stty shows and sets a single speed. This module mirrors that.
 */
import { CBAUD, type Termios } from './termios.js';

interface SpeedName {
  /** What stty accepts on the command line. */
  word: string;
  /** The Bnnn code stored in cflag. */
  code: number;
  /** The speed in baud that stty prints. */
  baud: number;
}

/** GNU stty's speeds[] table, as compiled on Linux x86_64 (order matters for lookups). */
const SPEEDS: readonly SpeedName[] = [
  { word: '0', code: 0, baud: 0 },
  { word: '50', code: 1, baud: 50 },
  { word: '75', code: 2, baud: 75 },
  { word: '110', code: 3, baud: 110 },
  { word: '134', code: 4, baud: 134 },
  { word: '134.5', code: 4, baud: 134 },
  { word: '150', code: 5, baud: 150 },
  { word: '200', code: 6, baud: 200 },
  { word: '300', code: 7, baud: 300 },
  { word: '600', code: 8, baud: 600 },
  { word: '1200', code: 9, baud: 1200 },
  { word: '1800', code: 10, baud: 1800 },
  { word: '2400', code: 11, baud: 2400 },
  { word: '4800', code: 12, baud: 4800 },
  { word: '9600', code: 13, baud: 9600 },
  { word: '19200', code: 14, baud: 19200 },
  { word: '38400', code: 15, baud: 38400 },
  { word: 'exta', code: 14, baud: 19200 },
  { word: 'extb', code: 15, baud: 38400 },
  { word: '57600', code: 0o10001, baud: 57600 },
  { word: '115200', code: 0o10002, baud: 115200 },
  { word: '230400', code: 0o10003, baud: 230400 },
  { word: '460800', code: 0o10004, baud: 460800 },
  { word: '500000', code: 0o10005, baud: 500000 },
  { word: '576000', code: 0o10006, baud: 576000 },
  { word: '921600', code: 0o10007, baud: 921600 },
  { word: '1000000', code: 0o10010, baud: 1000000 },
  { word: '1152000', code: 0o10011, baud: 1152000 },
  { word: '1500000', code: 0o10012, baud: 1500000 },
  { word: '2000000', code: 0o10013, baud: 2000000 },
  { word: '2500000', code: 0o10014, baud: 2500000 },
  { word: '3000000', code: 0o10015, baud: 3000000 },
  { word: '3500000', code: 0o10016, baud: 3500000 },
  { word: '4000000', code: 0o10017, baud: 4000000 },
];

/** The speed code for an stty speed word, or undefined when stty does not know it. */
export function speedCodeOf(word: string): number | undefined {
  return SPEEDS.find((speed) => speed.word === word)?.code;
}

/** The speed code for a number of baud (the inverse of baudOf), or undefined. */
export function speedCodeOfBaud(baud: number): number | undefined {
  return SPEEDS.find((speed) => speed.baud === baud)?.code;
}

/** The baud rate GNU stty prints for the termios (0 for codes it does not know). */
export function baudOf(t: Termios): number {
  const code = t.cflag & CBAUD;
  return SPEEDS.find((speed) => speed.code === code)?.baud ?? 0;
}

/** cfsetospeed/cfsetispeed with a valid non-zero code: both land in CBAUD. */
export function setSpeedCode(t: Termios, code: number): void {
  t.cflag = ((t.cflag & ~CBAUD) | code) >>> 0;
}
