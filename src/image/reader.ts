/**
 * The image reader: a job image's headers and notes, never the memory or the data
 * area (an image may hold gigabytes; the PT_LOADs and objects are only described).
 *
 * The checks run in the order of docs/image-format.md's "What a reader accepts", the
 * same order as the native loader (tty/common/image_load.c): member 0's core as an ELF
 * core (read-core.ts), the version, the job table and the job's tables (read-job.ts),
 * then every live member's core (read-process.ts). For an image with several problems,
 * the first one in that order is the one named.
 *
 * Every check a bad file can fail throws an ImageError that names what is wrong;
 * anything else escaping from here is a bug (the fuzz test holds it to that).
 *
 * Pure module: it reads through a ByteSource, see file.ts for files.
 */
import { CKPT_FORMAT_VERSION } from './format.js';
import { blame } from './errors.js';
import type { Image, ProcessImage } from './image.js';
import { coreKinds, FILE_KINDS, readCore, StringTable, type ByteSource } from './read-core.js';
import { checkVersion, decodeJobTable, decodeJobTables } from './read-job.js';
import { decodeProcess } from './read-process.js';

export type { ByteSource } from './read-core.js';

export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}

/** A whole image held in memory. */
export function parseImage(bytes: Uint8Array): Promise<Image> {
  return readImage(bufferSource(bytes));
}

export async function readImage(source: ByteSource): Promise<Image> {
  const core0 = await readCore(source, 0, BigInt(source.size), FILE_KINDS, blame());
  checkVersion(core0.notes);
  const { job, members } = decodeJobTable(core0.notes, source.size);
  const strings0 = new StringTable(core0.notes.required('NT_CKPT_STRINGS'), blame());
  const tables = decodeJobTables(core0.notes, strings0, job.dataArea);

  const processes: ProcessImage[] = [];
  for (const member of members) {
    if (member.core === null) continue;
    const bad = blame(members.length > 1 ? `member ${member.index} (pid ${member.pid}): ` : '');
    const core =
      member.index === 0 ? core0 : await readCore(source, member.core.offset, BigInt(member.core.length), coreKinds(bad), bad);
    processes.push(decodeProcess({ member, core, bad, objects: tables.objects, openFiles: tables.openFiles.length }));
  }
  return { version: CKPT_FORMAT_VERSION, fileSize: source.size, job, members, processes, ...tables };
}
