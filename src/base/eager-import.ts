/**
 * Loading the modules that run on the checkpoint key's path compiled whole. V8 compiles
 * a function to bytecode the first time it is called; the key's path (the input layer,
 * the session's checkpoint, the resident freezer's request and report, the status line)
 * mostly runs once per session, so every press paid that compiling: ~3 ms of a ~16 ms
 * first ^E in `ckpty shell` (bc), against ~10 ms more start-up. V8's --lazy flag decides
 * it per script as it is compiled, so it is off only while these modules load: the
 * screen worker (started later) and whatever loads afterwards compile as usual.
 */
import { setFlagsFromString } from 'node:v8';

export async function importEagerly<T>(load: () => Promise<T>): Promise<T> {
  setFlagsFromString('--no-lazy');
  try {
    return await load();
  } finally {
    setFlagsFromString('--lazy');
  }
}
