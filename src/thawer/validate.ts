/**
 * What `ckpty thaw` checks before anything starts: the image file is valid and the
 * caller's own, and everything the process depends on outside the image is still
 * there as it was (the executable, every mapped file, the files its descriptors had
 * open, its working directory). The native thawer checks the mapped files again on
 * the descriptors it maps, and the kernel's vdso, which only it can see.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { CkptyError, ExitCode, type ExitCodeValue } from '../base/errors.js';
import { checkFileIdentity, checkImageOwnership, openImage } from '../image/file.js';
import type { FileDescriptor, Image } from '../image/image.js';

/** How many problems one message names before it summarises the rest. */
const NAMED_PROBLEMS = 3;

/** Something outside the image that is not as the process left it. */
interface Problem {
  message: string;
  /** ExitCode.changed (changed or vanished) or ExitCode.permission (there, but not ours to open). */
  exitCode: ExitCodeValue;
}

const changed = (message: string): Problem => ({ message, exitCode: ExitCode.changed });
const denied = (message: string): Problem => ({ message, exitCode: ExitCode.permission });

function oneMessage(image: string, problems: Problem[]): string {
  const named = problems.slice(0, NAMED_PROBLEMS).map((p) => p.message).join('; ');
  const more = problems.length > NAMED_PROBLEMS ? `; and ${problems.length - NAMED_PROBLEMS} more` : '';
  return `cannot thaw ${image}: ${named}${more}`;
}

/** The executable and the files mapped from (an earlier image's pages are stored whole). */
async function changedFiles(image: Image): Promise<Problem[]> {
  const used = new Set([0, ...image.vmas.filter((v) => v.kind === 'file' && v.file).map((v) => v.file!.index)]);
  const files = image.files.filter((f) => used.has(f.index));
  const verdicts = await Promise.all(files.map((f) => checkFileIdentity(f)));
  return verdicts.filter((v): v is string => v !== null).map(changed);
}

const ACCESS_FOR_MODE = { O_RDONLY: constants.R_OK, O_WRONLY: constants.W_OK, O_RDWR: constants.R_OK | constants.W_OK, O_ACCMODE: 0 };

/** An fd the thaw reopens by path: the same file, still there, still openable the same way. */
async function fdProblem(fd: FileDescriptor): Promise<Problem | null> {
  if (fd.kind === 'tty') return null;
  const what = `${fd.path} (open as fd ${fd.fd})`;
  try {
    const now = await stat(fd.path, { bigint: true });
    const same = fd.kind === 'chr' ? now.isCharacterDevice() && Number(now.rdev & 0xffffffffn) === fd.rdev : now.dev === fd.dev && now.ino === fd.ino;
    if (!same) return changed(`${what} is another file than at the freeze`);
    await access(fd.path, ACCESS_FOR_MODE[fd.accessMode]);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return changed(`${what} no longer exists`);
    if (code === 'EACCES' || code === 'EPERM') return denied(`${what} cannot be opened ${fd.accessMode === 'O_RDONLY' ? 'for reading' : 'for writing'}`);
    return changed(`${what} cannot be checked: ${(err as Error).message}`);
  }
}

async function cwdProblem(image: Image): Promise<Problem | null> {
  const cwd = image.process.cwd;
  try {
    if (!(await stat(cwd)).isDirectory()) return changed(`the working directory ${cwd} is no longer a directory`);
    await access(cwd, constants.X_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? changed(`the working directory ${cwd} no longer exists`) : denied(`cannot enter the working directory ${cwd}`);
  }
}

/**
 * Reads the image at `path` and checks it can be thawed by this user here; throws a
 * CkptyError naming the problems found (the first few): a bad image (5) or one not
 * the caller's (4) first; then 7 when anything changed or vanished, else 4.
 */
export async function validateImage(path: string): Promise<Image> {
  const image = await openImage(path);
  const uid = process.geteuid?.() ?? 0;
  const ownership = checkImageOwnership(image, uid);
  if (ownership) throw new CkptyError(`refusing to thaw ${path}: ${ownership}`, ExitCode.permission);

  const [files, fds, cwd] = await Promise.all([changedFiles(image), Promise.all(image.fds.map(fdProblem)), cwdProblem(image)]);
  const problems = [...files, ...fds, cwd].filter((p): p is Problem => p !== null);
  if (problems.length === 0) return image;
  const exitCode = problems.some((p) => p.exitCode === ExitCode.changed) ? ExitCode.changed : ExitCode.permission;
  throw new CkptyError(oneMessage(path, problems), exitCode);
}
