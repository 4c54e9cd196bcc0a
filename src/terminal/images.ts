/**
 * The images in a directory, for the image list: every file named `*.ckpt`
 * (listed even when unreadable, with the reason) and any other regular file
 * that starts like an ELF file and reads as a ckpty image (other templates).
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes, processLabel } from '../base/format.js';
import { openImage } from '../image/file.js';
import { localTime } from '../image/info.js';

export interface ImageEntry {
  name: string;
  path: string;
  /** `vim[4242]` (`sh[4242] +2` for a job of three), or undefined when the file could not be read as an image. */
  process?: string;
  size?: string;
  time?: Date;
  /** Why the file is not a usable image. */
  problem?: string;
}

/** Directories can be huge; the list is for the few images a user keeps around. */
const MAX_FILES = 2000;
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

async function startsLikeElf(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'r');
    try {
      const head = Buffer.alloc(4);
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      return bytesRead === 4 && head.equals(ELF_MAGIC);
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

async function describe(name: string, path: string): Promise<ImageEntry | undefined> {
  try {
    const image = await openImage(path);
    const first = image.processes[0]?.process;
    const others = image.members.length - 1;
    return {
      name,
      path,
      process: `${processLabel(first?.pid ?? 0, first?.comm)}${others > 0 ? ` +${others}` : ''}`,
      size: formatBytes(image.fileSize),
      time: first?.freezeTime,
    };
  } catch (err) {
    return name.endsWith('.ckpt') ? { name, path, problem: (err as Error).message } : undefined;
  }
}

/** Images in `dir`, newest first; unreadable `*.ckpt` files last. */
export async function listImages(dir: string): Promise<ImageEntry[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).slice(0, MAX_FILES);
  const found: ImageEntry[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (!entry.name.endsWith('.ckpt') && !(await startsLikeElf(path))) continue;
    const described = await describe(entry.name, path);
    if (described) found.push(described);
  }
  const when = (e: ImageEntry) => e.time?.getTime() ?? -Infinity;
  return found.sort((a, b) => when(b) - when(a) || a.name.localeCompare(b.name));
}

/** One row of the list: name, process, size, time; or name and the problem. */
export function formatImageEntry(entry: ImageEntry, nameWidth: number): string {
  const name = entry.name.padEnd(nameWidth);
  if (entry.problem) return `${name}  unreadable: ${entry.problem}`;
  const time = entry.time ? localTime(entry.time).slice(0, 16) : '';
  return `${name}  ${(entry.process ?? '').padEnd(16)} ${(entry.size ?? '').padStart(9)}  ${time}`;
}
