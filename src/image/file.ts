/**
 * Images on disk: open and read one (headers and notes only), cut one member's core
 * out of it, and check that a file the image depends on is still the one that was
 * there at the freeze.
 */
import { constants, type BigIntStats } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CkptyError, ExitCode } from '../base/errors.js';
import { processLabel } from '../base/format.js';
import { ImageError, foreign } from './errors.js';
import type { Image, MappedFile, Member } from './image.js';
import { readImage, type ByteSource } from './reader.js';

function fileSource(handle: FileHandle, size: number): ByteSource {
  return {
    size,
    async read(offset, length) {
      const buffer = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        // The file shrank under us: what is missing reads as a truncated image.
        if (bytesRead === 0) throw new ImageError('truncated', `the file ended at ${offset + done} while reading it`);
        done += bytesRead;
      }
      return buffer;
    },
  };
}

/** A user-facing error for a failed open/stat of `path`. */
export function fileError(path: string, err: unknown): CkptyError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new CkptyError(`${path}: no such file`, ExitCode.notFound);
    case 'EACCES':
    case 'EPERM':
      return new CkptyError(`${path}: permission denied`, ExitCode.permission);
    default:
      return new CkptyError(`${path}: ${(err as Error).message}`, ExitCode.io);
  }
}

/**
 * Reads and validates the image at `path`, then hands it and its open file to `use`:
 * whatever `use` reads comes from the bytes that were checked. Throws ImageError
 * (naming the path) for anything wrong with the file's contents, CkptyError for a file
 * that cannot be read.
 */
async function withImage<T>(path: string, use: (image: Image, source: ByteSource) => Promise<T>): Promise<T> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO under the image's name must not hang the open.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw fileError(path, err);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw foreign(info.isDirectory() ? 'a directory' : 'not a regular file').inFile(path);
    const source = fileSource(handle, info.size);
    const image = await readImage(source);
    // From the same open file, so the owner checked is the owner of the bytes read.
    image.file = { path, uid: info.uid, gid: info.gid, mode: info.mode };
    return await use(image, source);
  } catch (err) {
    if (err instanceof ImageError && err.path === undefined) throw err.inFile(path);
    if (err instanceof CkptyError) throw err;
    throw fileError(path, err);
  } finally {
    await handle.close();
  }
}

export function openImage(path: string): Promise<Image> {
  return withImage(path, async (image) => image);
}

/** The live member with this pid; a clear refusal for a zombie or a pid not in the job. */
export function memberWithPid(image: Image, pid: number, path: string): Member & { core: NonNullable<Member['core']> } {
  const member = image.members.find((candidate) => candidate.pid === pid);
  if (member === undefined) {
    const pids = image.members.map((candidate) => candidate.pid).join(', ');
    throw new CkptyError(`${path}: no member with pid ${pid} in this job (its members: ${pids})`, ExitCode.notFound);
  }
  if (member.core === null) {
    throw new CkptyError(`${path}: ${processLabel(pid, member.comm)} is a zombie in this job: it has no core to extract`, ExitCode.unsupported);
  }
  return { ...member, core: member.core };
}

/** Bytes copied at a time: a core may hold gigabytes of memory. */
const COPY_CHUNK = 8 << 20;

/**
 * Writes member `pid`'s core, a byte copy of its range of the image, to `output`:
 * a standalone ELF core for gdb and readelf (its descriptors name the job's tables,
 * which only member 0's core holds: it is not an image to thaw). Like an image it
 * holds memory, so it is created 0600 as a new file and renamed into place.
 */
export async function extractMember(path: string, pid: number, output: string): Promise<{ member: Member; bytes: number }> {
  return withImage(path, async (image, source) => {
    const member = memberWithPid(image, pid, path);
    const temporary = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
    let out: FileHandle;
    try {
      out = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      throw fileError(output, err);
    }
    try {
      for (let done = 0; done < member.core.length; done += COPY_CHUNK) {
        const length = Math.min(COPY_CHUNK, member.core.length - done);
        await out.write(await source.read(member.core.offset + done, length));
      }
      await out.sync();
      await out.close();
      await rename(temporary, output);
    } catch (err) {
      await out.close().catch(() => undefined);
      await unlink(temporary).catch(() => undefined);
      throw err instanceof CkptyError ? err : fileError(output, err);
    }
    return { member, bytes: member.core.length };
  });
}

/**
 * null when `uid` may trust the image file: owned by that uid and not writable by
 * group or others (the image becomes a process of the user who thaws it).
 */
export function checkImageOwnership(image: Image, uid: number): string | null {
  const file = image.file;
  if (file === undefined) return 'the image was not read from a file';
  if (file.uid !== uid) return `${file.path} is owned by uid ${file.uid}, not by uid ${uid}`;
  if ((file.mode & 0o022) !== 0) {
    return `${file.path} is writable by ${file.mode & 0o002 ? 'others' : 'its group'} (mode ${(file.mode & 0o7777).toString(8).padStart(4, '0')})`;
  }
  return null;
}

const IDENTITY_FIELDS = [
  ['device', (file: MappedFile, now: BigIntStats) => file.dev === now.dev],
  ['inode', (file: MappedFile, now: BigIntStats) => file.ino === now.ino],
  ['size', (file: MappedFile, now: BigIntStats) => file.size === now.size],
  ['mtime', (file: MappedFile, now: BigIntStats) => file.mtimeNs === now.mtimeNs],
  ['ctime', (file: MappedFile, now: BigIntStats) => file.ctimeNs === now.ctimeNs],
] as const;

/**
 * null when the file at `file.path` is the one recorded at the freeze (same device,
 * inode, size, mtime and ctime); otherwise why not, e.g.
 * `/usr/lib/x86_64-linux-gnu/libc.so.6 changed since the freeze (mtime)`.
 */
export async function checkFileIdentity(file: MappedFile): Promise<string | null> {
  let now: BigIntStats;
  try {
    now = await stat(file.path, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `${file.path} no longer exists`;
    return `${file.path} cannot be checked: ${(err as Error).message}`;
  }
  const changed = IDENTITY_FIELDS.filter(([, same]) => !same(file, now)).map(([name]) => name);
  return changed.length === 0 ? null : `${file.path} changed since the freeze (${changed.join(', ')})`;
}
