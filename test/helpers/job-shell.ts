/**
 * A user's terminal for freezing and thawing whole jobs: a bash on a real pty, run as
 * root or as the unprivileged test user, in a directory of that user's; the job in the
 * foreground is frozen with `ckpty freeze --job` run as the same user, and `ckpty thaw`
 * is typed into the shell.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { cliRootFor, tempDir, testUser, until, type TestUser } from './fixtures.js';
import { runCli } from './freezer.js';
import { CLI } from './thaw.js';
import { startShell, type Shell } from './thaw-shell.js';

export interface JobShell {
  shell: Shell;
  dir: string;
  user?: TestUser;
  /** The checkout (or a copy) the user runs ckpty from. */
  root: string;
}

export async function startJobShell(user?: TestUser): Promise<JobShell> {
  const dir = tempDir('ckpty-job', user);
  const root = user ? cliRootFor(user) : join(CLI, '../..');
  const shell = await startShell({ cwd: dir, user, cli: join(root, 'bin/ckpty') });
  return { shell, dir, user, root };
}

/** `ckpty freeze --job` of the terminal's foreground job, as the shell's user; resolves at the shell's next prompt. */
export async function freezeForegroundJob(js: JobShell, name: string): Promise<{ image: string; report: Record<string, unknown> }> {
  const image = join(js.dir, name);
  const job = js.shell.foreground();
  js.shell.mark();
  const run = await runCli(['freeze', '--job', '--json', '-o', image, String(job)], { root: js.root, uid: js.user?.uid, gid: js.user?.gid });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  await js.shell.waitFor(/\$ $/);
  return { image, report: JSON.parse(run.stdout) as Record<string, unknown> };
}

/** Does the process run ckpty's thawer (a thaw, or its reaper in a namespace)? */
export function isThawer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0]?.endsWith('ckpty-thawer') ?? false;
  } catch {
    return false;
  }
}

/**
 * Type `ckpty thaw IMAGE` and wait until the job runs with the terminal: the thaw prints
 * its line before it gives the terminal to the job's group. Returns the thaw's line.
 */
export async function thawInShell(js: JobShell, image: string): Promise<string> {
  js.shell.mark();
  js.shell.type(`ckpty thaw ${image}\r`);
  const line = (await js.shell.waitFor(/ckpty: thawed [^\r\n]+/))[0];
  await until(() => !isThawer(js.shell.foreground()), 5000, 'the thawed job in the foreground');
  return line;
}

/** The users a test runs as: root, and the unprivileged test user. */
export const AS: { who: string; user: () => TestUser | undefined }[] = [
  { who: 'root', user: () => undefined },
  { who: 'an unprivileged user', user: () => testUser() },
];
