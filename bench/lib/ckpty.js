/** ckpty's own modules, loaded from dist/ when a measurement first needs them (a missing feature is a row, not a crash). */
import { join } from 'node:path';
import { DIST } from './context.js';

const loaded = new Map();

function load(path, name) {
  const key = `${path}#${name}`;
  if (!loaded.has(key)) loaded.set(key, import(join(DIST, path)).then((module) => module[name]));
  return loaded.get(key);
}

/** freezeProcess(pid, options): the freezer exactly as the session host calls it on the key. */
export const loadFreezeProcess = () => load('freezer/freeze.js', 'freezeProcess');

/** The session host's Session class. */
export const loadSession = () => load('host/session.js', 'Session');
