/**
 * Where the image goes: DragonFly's name template (`%N` name, `%P` pid, `%U` uid, `%%`),
 * relative to the frozen process's current directory, or an explicit file relative to
 * the caller's. The path is checked before the process is touched; the native freezer
 * checks the final name again just before its rename.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CkptyError, ExitCode } from '../base/errors.js';
import { lstatOrUndefined, readLink } from './proc.js';

export const DEFAULT_NAME_TEMPLATE = '%N.ckpt';

export interface TemplateFacts {
  pid: number;
  comm: string;
  uid: number;
}

/** Expand a name template; throws a usage error for an unknown `%` sequence. */
export function expandTemplate(template: string, facts: TemplateFacts): string {
  return template.replace(/%(.?)/g, (whole, letter: string) => {
    switch (letter) {
      case 'N':
        // A comm may hold '/' (prctl PR_SET_NAME): it must not turn into a directory.
        return facts.comm.replace(/\//g, '_');
      case 'P':
        return String(facts.pid);
      case 'U':
        return String(facts.uid);
      case '%':
        return '%';
      default:
        throw new CkptyError(
          `bad name template '${template}': unknown '${whole}' (use %N name, %P pid, %U uid, %% a percent sign)`,
          ExitCode.usage,
        );
    }
  });
}

/**
 * Where a freeze of `facts.pid` puts its image: an explicit path, or the template's
 * expansion in the process's own directory (which the freezer opens as that directory,
 * not by this path: see tty/freezer/target.h). `path` is the absolute name as it
 * stands now, for early checks and messages.
 */
export interface ImageTarget {
  path: string;
  native: { path: string } | { nameInCwd: string };
}

export function imageTarget(options: { output?: string; nameTemplate?: string }, facts: TemplateFacts): ImageTarget {
  if (options.output !== undefined) {
    const path = resolve(options.output);
    return { path, native: { path } };
  }
  const name = expandTemplate(options.nameTemplate ?? DEFAULT_NAME_TEMPLATE, facts);
  if (name === '') throw new CkptyError('the name template gives an empty file name', ExitCode.usage);
  if (isAbsolute(name)) throw new CkptyError(`bad name template: '${name}' is not relative to the process's directory`, ExitCode.usage);
  const cwd = readLink(`/proc/${facts.pid}/cwd`);
  if (cwd === undefined) throw new CkptyError(`cannot read the current directory of process ${facts.pid}`, ExitCode.permission);
  if (cwd.endsWith(' (deleted)')) {
    throw new CkptyError(`the current directory of process ${facts.pid} was deleted: give the image a path with -o`, ExitCode.io);
  }
  return { path: resolve(cwd, name), native: { nameInCwd: name } };
}

/** Refuse a path the image cannot be written to: no directory, no write access, a symlink or a non-file there. */
export function checkImagePath(path: string): void {
  const dir = dirname(path);
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch {
    throw new CkptyError(`cannot write the image ${path}: the directory ${dir} does not exist`, ExitCode.io);
  }
  if (!dirStat.isDirectory()) throw new CkptyError(`cannot write the image ${path}: ${dir} is not a directory`, ExitCode.io);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'EROFS' ? 'read-only file system' : 'permission denied';
    throw new CkptyError(`cannot write the image ${path}: the directory ${dir} is not writable (${why})`, ExitCode.io);
  }
  const existing = lstatOrUndefined(path);
  if (existing?.isSymbolicLink()) {
    throw new CkptyError(`refusing to write the image through a symbolic link: ${path}`, ExitCode.io);
  }
  if (existing && !existing.isFile()) {
    throw new CkptyError(`cannot write the image ${path}: it exists and is not a regular file`, ExitCode.io);
  }
}
