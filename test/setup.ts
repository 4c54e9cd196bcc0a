/**
 * Every test file, in its worker:
 *  - descriptors inherited from whatever started the test run (an editor, a CI agent)
 *    must not reach the programs the tests start: ckpty rightly refuses to freeze a
 *    process holding a pipe to a process outside its job. Marked close-on-exec, they
 *    stay open here (the worker's own channel to vitest among them) but are not passed on;
 *  - the temporary directories it made (tempDir) go at its end: images can be GiBs.
 */
import { afterAll } from 'vitest';
import { closeDescriptorsOnExec } from '../src/host/native.js';
import { removeTempDirs } from './helpers/fixtures.js';

closeDescriptorsOnExec();
afterAll(removeTempDirs);
