/**
 * `ckpty info`: a job image described for people (info-text.ts) and for tools
 * (info-json.ts).
 */
import { openImage } from './file.js';
import { infoJson } from './info-json.js';
import { formatInfo } from './info-text.js';

export { formatInfo, localTime } from './info-text.js';
export { infoJson } from './info-json.js';

/** The `info` command: print the image at `path`, as text or JSON. */
export async function runInfo(path: string, options: { json?: boolean }): Promise<void> {
  const image = await openImage(path);
  const text = options.json ? `${JSON.stringify(infoJson(image, path), null, 2)}\n` : formatInfo(image, path);
  process.stdout.write(text);
}
