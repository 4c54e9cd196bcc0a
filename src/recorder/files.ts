/**
 * Reading the files the user names (recordings, tapes), with the errors ckpty reports.
 */
import { readFileSync } from 'node:fs';
import { CkptyError, ExitCode } from '../base/errors.js';

export function readUserFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CkptyError(`${path}: no such file`, ExitCode.notFound);
    throw new CkptyError(`${path}: cannot read: ${(err as Error).message}`, ExitCode.io);
  }
}

/** Runs `write`, turning a failure to create or write `path` into the error ckpty reports. */
export function writingUserFile<T>(path: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    throw new CkptyError(`${path}: cannot write: ${(err as Error).message}`, ExitCode.io);
  }
}
