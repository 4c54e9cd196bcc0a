/**
 * Finding a program as execvp(3) does: a name with a slash is a path; any other name is
 * looked up in each PATH directory in turn (an empty entry is the current directory),
 * and the first executable regular file wins.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** The absolute path that running `program` with `path` as PATH would execute, or undefined. */
export function findProgram(program: string, path: string): string | undefined {
  const candidates = program.includes('/') ? [program] : path.split(delimiter).map((dir) => join(dir || '.', program));
  const found = candidates.find(isExecutableFile);
  return found === undefined ? undefined : resolve(found);
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
