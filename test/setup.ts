/**
 * Every test worker: descriptors inherited from whatever started the test run (an
 * editor, a CI agent) must not reach the programs the tests start — ckpty rightly
 * refuses to freeze a process holding a stray pipe. Marked close-on-exec, they stay
 * open here (the worker's own channel to vitest among them) but are not passed on.
 */
import { closeDescriptorsOnExec } from '../src/host/native.js';

closeDescriptorsOnExec();
