/**
 * The parts of ckpty the bench drives in-process, from the build it measures (dist/, which
 * `npm run bench` compiles first). dist-bench/lib/ is as deep as bench/lib/, so this path
 * holds for the compiler here and for node there.
 */
export { findProgram } from '../../dist/base/find-program.js';
export { freezeProcess } from '../../dist/freezer/freeze.js';
export { ResidentFreezer } from '../../dist/freezer/native.js';
export { readStat, waitsForInput, type ProcStat } from '../../dist/freezer/proc.js';
export { Session } from '../../dist/host/session.js';
