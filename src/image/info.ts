/**
 * `ckpty info`: a job image described for people (info-text.ts) and for tools
 * (info-json.ts), and one member's core cut out for gdb (`--extract PID -o FILE`).
 */
import { CkptyError, ExitCode } from '../base/errors.js';
import { formatBytes, processLabel } from '../base/format.js';
import { extractMember, openImage } from './file.js';
import { infoJson } from './info-json.js';
import { formatInfo } from './info-text.js';

export { formatInfo, localTime } from './info-text.js';
export { infoJson } from './info-json.js';

export interface InfoOptions {
  json?: boolean;
  /** The pid of the member whose core to write. */
  extract?: string;
  output?: string;
}

async function runExtract(path: string, pidText: string, options: InfoOptions): Promise<void> {
  if (!/^\d+$/.test(pidText)) throw new CkptyError(`--extract: bad process id '${pidText}'`, ExitCode.usage);
  if (options.output === undefined) throw new CkptyError('--extract needs -o FILE: where to write the core', ExitCode.usage);
  const { member, bytes } = await extractMember(path, Number(pidText), options.output);
  const done = { pid: member.pid, comm: member.comm, member: member.index, path: options.output, bytes };
  process.stdout.write(
    options.json ? `${JSON.stringify(done)}\n` : `extracted ${processLabel(member.pid, member.comm)} (member ${member.index}) -> ${options.output} (${formatBytes(bytes)})\n`,
  );
}

/** The `info` command: print the image at `path`, as text or JSON, or extract one member's core. */
export async function runInfo(path: string, options: InfoOptions): Promise<void> {
  if (options.extract !== undefined) return runExtract(path, options.extract, options);
  if (options.output !== undefined) throw new CkptyError('-o goes with --extract PID', ExitCode.usage);
  const image = await openImage(path);
  const text = options.json ? `${JSON.stringify(infoJson(image, path), null, 2)}\n` : formatInfo(image, path);
  process.stdout.write(text);
}
