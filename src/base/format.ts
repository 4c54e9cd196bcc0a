/** Wording shared by every command's messages: sizes, durations, process names and shell words. */

/** 1.4 MiB, 120 KiB, 512 B. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${units[unit]}`;
}

/** `9.4 ms`, `120 ms`: a tenth of a millisecond only where it matters. */
export function formatMilliseconds(ms: number): string {
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms).toString()} ms`;
}

/** "bc[4242]": how messages name a process. */
export function processLabel(pid: number, comm: string | undefined): string {
  return comm === undefined ? `process ${pid}` : `${comm}[${pid}]`;
}

/** An argument as a shell would need it typed. */
export function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
