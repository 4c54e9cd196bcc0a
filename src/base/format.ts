/** Wording shared by every command's messages: sizes, durations, process names and shell words. */

/**
 * Wording shared with the native programs (tty/common/words.c, checked by
 * test/native-contract.test.ts): both round half up from the same double, so a size
 * reads the same whichever side prints it.
 */
function decimal(value: number, digits: 0 | 1): string {
  if (digits === 0) return String(Math.floor(value + 0.5));
  const tenths = Math.floor(value * 10 + 0.5);
  return `${Math.trunc(tenths / 10)}.${tenths % 10}`;
}

/** 1.4 MiB, 120 KiB, 512 B. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${decimal(value, unit === 0 || value >= 10 ? 0 : 1)} ${units[unit]}`;
}

/** `9.4 ms`, `120 ms`: a tenth of a millisecond only where it matters. */
export function formatMilliseconds(ms: number): string {
  return `${decimal(ms, ms < 10 ? 1 : 0)} ms`;
}

/** "bc[4242]": how messages name a process. */
export function processLabel(pid: number, comm: string | undefined): string {
  return comm === undefined ? `process ${pid}` : `${comm}[${pid}]`;
}

/**
 * How messages name a job: `bc[4242]` when it is one process; else its processes' names,
 * each once, at most four, and how many are alive: `man|less (3 processes)`.
 */
export function jobLabel(pid: number, names: readonly string[], processes: number): string {
  if (names.length <= 1) return processLabel(pid, names[0]);
  const unique = [...new Set(names)];
  const shown = unique.length > 4 ? [...unique.slice(0, 3), '…'] : unique;
  return `${shown.join('|')} (${processes} process${processes === 1 ? '' : 'es'})`;
}

/** An argument as a shell would need it typed. */
export function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
