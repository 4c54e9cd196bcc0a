/**
 * Loading the modules that run on the checkpoint key's path compiled whole. V8 compiles
 * a function to bytecode the first time it is called; the key's path (the input layer,
 * the session's checkpoint, the resident freezer's request and report, the status line)
 * mostly runs once per session, so a session's first press paid that compiling (^E on
 * bc in a fresh `ckpty shell`: median 16.8 ms, 14.2 with this), against ~15 ms more
 * start-up. V8's --lazy flag decides it per script as it is compiled, so it is off only
 * while these modules load: the screen worker (started later) and whatever loads
 * afterwards compile as usual.
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
