/**
 * `ckpty shell` as a program in the user's terminal: it leaves that terminal as it found
 * it on every way out, passes on the window size and the exit status, and sets up the
 * session's environment. Plus the control channel's access rules.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, chownSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { askHost } from '../src/base/control-protocol.js';
import { sweepStale } from '../src/host/control.js';
import { DEFAULT_PASS } from '../src/host/pass-list.js';
import { unreadOutput } from '../src/host/native.js';
import { spawnPty } from '../src/host/pty.js';
import { Session } from '../src/host/session.js';
import { buildFixture, ROOT, tempDir, testUser, until } from './helpers/fixtures.js';
import { markersOf, readCast } from './helpers/recorder.js';
import { CKPTY, PROMPT, TestTerminal, sessionCliFor, startShellSession, stopSessions, testEnvironment } from './helpers/host.js';

const OUTER_PROMPT = 'OUTER$ ';
const run = promisify(execFile);

afterEach(stopSessions);

/** A bash in a terminal of its own: the user's terminal, from which ckpty is started. */
async function outerShell(cwd: string): Promise<TestTerminal> {
  const term = new TestTerminal('bash', ['--norc', '--noprofile'], { cwd, env: testEnvironment(cwd, { PS1: OUTER_PROMPT }) });
  await term.waitFor(/OUTER\$ $/);
  return term;
}

/** Type a line at the outer prompt and wait for the next outer prompt; what was shown. */
async function outerRun(term: TestTerminal, line: string): Promise<string> {
  const mark = term.mark();
  term.type(`${line}\r`);
  await term.waitFor(/OUTER\$ $/, { after: mark });
  return term.since(mark);
}

const startInner = `PS1='${PROMPT}' ${CKPTY} shell -- bash --norc --noprofile`;

describe('ckpty shell in the user terminal', () => {
  it.each([
    ['exit 7', 7],
    ['kill -TERM $PPID', 143],
    ['kill -HUP $PPID', 129],
    ['kill -INT $PPID', 130],
  ])('restores the outer terminal after `%s` (exit status %i)', async (how, status) => {
    const cwd = tempDir('ckpty-session');
    const outer = await outerShell(cwd);
    try {
      await outerRun(outer, 'stty -g > before');
      const mark = outer.mark();
      outer.type(`${startInner}\r`);
      await outer.waitFor(/PROMPT\$ $/, { after: mark });
      // While the session runs, the outer terminal is raw: bytes pass unchanged both ways.
      const outerTerminal = 'stty -a -F "$(readlink /proc/$PPID/fd/0)"';
      const during = (await outer.run(`${outerTerminal} | tr ' ' '\\n' | grep -x -e -icanon -e -isig -e -opost -e -echo | sort | tr '\\n' ' '`)).trim();
      expect(during).toBe('-echo -icanon -isig -opost');
      const socketPath = (await outer.run('echo "$CKPTY_SOCKET"')).trim();
      expect(existsSync(socketPath)).toBe(true);
      outer.type(`${how}\r`);
      await outer.waitFor(/OUTER\$ $/, { after: mark });
      const shown = await outerRun(outer, 'echo status=$?; stty -g > after; cmp before after && echo same modes');
      expect(shown).toContain(`status=${status}`);
      expect(shown).toContain('same modes');
      // The control socket's private directory goes with the session.
      expect(existsSync(dirname(socketPath))).toBe(false);
    } finally {
      outer.kill();
    }
  });

  it('passes the window size on, and sets the session environment', async () => {
    const term = await startShellSession({ cwd: tempDir('ckpty-session'), cols: 90, rows: 30 });
    expect((await term.run('stty size')).trim()).toBe('30 90');
    term.resize(120, 40);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await term.run('stty size')).trim()).toBe('40 120');
    const environment = await term.run('echo "$CKPTY ${PATH%%:*}"; test -S "$CKPTY_SOCKET" && echo socket');
    expect(environment).toBe(`1 ${join(ROOT, 'tty')}\nsocket\n`);
    // Only the terminal is passed on: no descriptor of ckpty's leaks into the session.
    expect((await term.run('ls /proc/$$/fd | sort -n | tr "\\n" " "')).trim()).toBe('0 1 2 255');
  });

  it('works with input that is not a terminal, and ends when that input does', async () => {
    const cwd = tempDir('ckpty-session');
    const run = (input: string): ReturnType<typeof spawnSync> =>
      spawnSync(CKPTY, ['shell', '--', 'bash', '--norc', '--noprofile'], {
        cwd,
        input,
        env: testEnvironment(cwd),
        timeout: 20_000,
        encoding: 'latin1',
      });
    const scripted = run('echo hi there\nexit 4\n');
    expect(scripted.status).toBe(4);
    expect(scripted.stdout).toContain('hi there');
    const ended = run('echo no exit\n');
    expect(ended.status).toBe(0);
    expect(ended.stdout).toContain('no exit');
    // The end of file waits for bash's next prompt: sent while the command ran (the
    // terminal in canonical mode), bash read it at the prompt (raw mode) as a NUL byte
    // and waited for ever.
    const waited = run('sleep 0.3; echo slept\n');
    expect(waited.status).toBe(0);
    expect(waited.stdout).toContain('slept');
    // Every reader in turn gets its end of file, as from a pipe: the job, then the shell.
    const job = run('python3 -q\nprint(6 * 7)\n');
    expect(job.status).toBe(0);
    expect(job.stdout).toMatch(/^42\r$/m);
    const cat = run('cat\nhello\n');
    expect(cat.status).toBe(0);
    expect(cat.stdout).toContain('hello\r\n');
  });

  it('drops keys typed as the program ends, and ends with its status', async () => {
    // The pty's master closes a moment before the program's exit is known: a key read
    // then used to reach the closed descriptor (ckpty shell -- true under script(1):
    // "internal error: TCGETS2: Bad file descriptor", status 70), and so did the
    // session's first look at the job when the program ended at once.
    for (let run = 0; run < 10; run++) {
      const session = await Session.start({ file: 'sh', args: ['-c', 'exit 3'] });
      const ended = await new Promise<number | string>((resolve) => {
        session.once('exit', ({ status }) => resolve(status));
        const type = (): void => {
          try {
            session.write('x');
            setImmediate(type);
          } catch (err) {
            resolve(String(err));
          }
        };
        type();
      });
      expect(ended).toBe(3);
    }
  });

  it('works for an unprivileged user: the control channel, the key, and a thaw told by the PID the host knows', async () => {
    const user = testUser();
    const cwd = tempDir('ckpty-session', user);
    const counter = await buildFixture('counter');
    const cli = sessionCliFor(user);
    const cast = join(cwd, 'session.cast');
    const term = new TestTerminal(
      'runuser',
      ['-u', user.name, '--', 'prlimit', '--core=unlimited', '--', cli, 'shell', '--record', cast, '--', 'bash', '--norc', '--noprofile'],
      { cwd, env: testEnvironment(cwd) },
    );
    try {
      await term.prompt();
      expect(await term.run('id -un; stty ckpt ^T; stty -a | grep -o "ckpt = ^T"')).toBe(`${user.name}\nckpt = ^T\n`);
      let mark = term.mark();
      term.type(`${counter}\r`);
      const [, pid] = await term.waitFor(/ready pid=(\d+)/, { after: mark });
      term.type('\x14');
      await term.waitFor(new RegExp(`ckpt: froze counter\\[${pid}\\] -> ${cwd}/counter.ckpt`), { after: mark });
      expect(statSync(join(cwd, 'counter.ckpt')).uid).toBe(user.uid);
      // The user's thaw keeps the counter's PID inside a pid namespace; the session's host,
      // outside it, is told the PID it sees: the one its next freeze names.
      mark = term.mark();
      term.type(`${cli} thaw counter.ckpt\r`);
      const [, outer] = await term.waitFor(new RegExp(`thawed counter\\[${pid}\\] from ${cwd}/counter.ckpt .*; counter is PID (\\d+) outside its pid namespace`), { after: mark });
      await term.waitFor(/count \d+/, { after: mark });
      term.type('\x14');
      await term.waitFor(new RegExp(`ckpt: froze counter\\[${outer}\\] -> ${cwd}/counter\\S*\\.ckpt`), { after: mark });
      await term.prompt(mark);
      term.type('exit 0\r');
      expect(await term.exited).toEqual({ exitCode: 0 });
      expect(markersOf(readCast(cast)).filter((marker) => marker.startsWith('thawed'))).toEqual([`thawed counter[${outer}] from ${cwd}/counter.ckpt`]);
    } finally {
      term.kill();
    }
  });

  it('rejects a bad --key, --name-template or program before starting', () => {
    const bad = spawnSync(CKPTY, ['shell', '--key', 'foo', '--', 'true'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^ckpty: --key: /);
    const template = spawnSync(CKPTY, ['shell', '--name-template', '%Q.ckpt', '--', 'true'], { encoding: 'utf8' });
    expect(template.status).toBe(2);
    expect(template.stderr).toContain("unknown '%Q'");
    const missing = spawnSync(CKPTY, ['shell', '--', 'no-such-program-ckpty'], { encoding: 'utf8' });
    expect(missing.status).toBe(8);
    expect(missing.stderr).toBe("ckpty: cannot run 'no-such-program-ckpty': no such program\n");
  });
});

describe('the control channel', () => {
  it('answers the session user, in a private directory, and changes the key and the pass list', async () => {
    const session = await Session.start({ file: 'sleep', args: ['30'] });
    try {
      const socketPath = await sessionSocket(session);
      expect(statSync(dirname(socketPath)).mode & 0o777).toBe(0o700);
      const changes: number[] = [];
      session.on('keyChanged', ({ ckpt }) => changes.push(ckpt));
      const [got, set, pass] = await askHost(socketPath, [{ op: 'get' }, { op: 'set', ckpt: 0x14 }, { op: 'set', pass: ['zsh'] }]);
      expect(got).toEqual({ ok: true, ckpt: 5, pass: DEFAULT_PASS, tty: session.tty });
      expect(set).toEqual({ ok: true, ckpt: 0x14, pass: DEFAULT_PASS, tty: session.tty });
      expect(pass).toEqual({ ok: true, ckpt: 0x14, pass: ['zsh'], tty: session.tty });
      expect(session.key).toBe(0x14);
      expect(changes).toEqual([0x14]);
    } finally {
      session.kill('SIGKILL');
    }
  });

  it('refuses other users: the directory keeps them out, and so does the peer check', async () => {
    const user = testUser();
    const session = await Session.start({ file: 'sleep', args: ['30'] });
    try {
      const socketPath = await sessionSocket(session);
      const client = `require('net').connect(process.argv[1]).on('error', (e) => { console.log(e.code); process.exit(0); })` +
        `.on('connect', function () { this.end('{"op":"set","ckpt":20}\\n'); }).on('data', (d) => process.stdout.write(d));`;
      // Asynchronously: the server answering is this very process.
      const connectAsUser = async (): Promise<string> =>
        (await run('runuser', ['-u', user.name, '--', process.execPath, '-e', client, socketPath])).stdout.trim();
      expect(await connectAsUser()).toBe('EACCES');
      // Even with the directory opened up, the host checks who is calling.
      chmodSync(dirname(socketPath), 0o755);
      chmodSync(socketPath, 0o777);
      expect(JSON.parse(await connectAsUser())).toEqual({ ok: false, error: 'permission denied' });
      expect(session.key).toBe(5);
    } finally {
      session.kill('SIGKILL');
    }
  });

  it("removes the socket directories of this user's killed sessions at a start, and nothing else", async () => {
    const base = tempDir('ckpty-runtime');
    chmodSync(base, 0o700);
    const old = new Date(Date.now() - 5 * 60_000);
    /** base/ckpty-NAME with `control` in it, made by `make`, dated `when`. */
    const socketDirectory = async (name: string, make: (path: string) => Promise<void> | void, when = old): Promise<string> => {
      const directory = join(base, `ckpty-${name}`);
      mkdirSync(directory, { mode: 0o700 });
      await make(join(directory, 'control'));
      utimesSync(directory, when, when);
      return directory;
    };
    // A session killed by SIGKILL: its socket stays, nobody listens.
    const killed = (path: string): void => {
      const listenAndDie = `require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))`;
      expect(spawnSync(process.execPath, ['-e', listenAndDie, path]).signal).toBe('SIGKILL');
      expect(statSync(path).isSocket()).toBe(true);
    };
    const live = createServer();
    const stale = await socketDirectory('Stale1', killed);
    const keep = [
      await socketDirectory('Young1', killed, new Date()), // a session starting now
      await socketDirectory('Live01', (path) => new Promise<void>((resolve) => live.listen(path, resolve))),
      await socketDirectory('Extra1', (path) => {
        killed(path);
        writeFileSync(join(dirname(path), 'notes'), 'not a socket directory\n');
      }),
      await socketDirectory('File01', (path) => writeFileSync(path, '')),
      await socketDirectory('Other1', (path) => {
        const user = testUser();
        killed(path);
        chownSync(dirname(path), user.uid, user.gid);
      }),
      await socketDirectory('toolong', killed),
    ];
    const runtime = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = base;
    const session = await Session.start({ file: 'sleep', args: ['30'] }).finally(() => {
      if (runtime === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = runtime;
    });
    try {
      expect(dirname(await sessionSocket(session))).toMatch(new RegExp(`^${base}/ckpty-`));
      await until(() => !existsSync(stale), 5000, 'the killed session\'s directory to go');
      await sweepStale(base); // once more, to its end: what it keeps is kept
      for (const directory of keep) expect(existsSync(join(directory, 'control')), directory).toBe(true);
      expect(readdirSync(base).filter((name) => name.startsWith('ckpty-'))).toHaveLength(keep.length + 1); // and the session's own
    } finally {
      session.kill('SIGKILL');
      live.close();
    }
  });
});

/** $CKPTY_SOCKET as the session's program sees it (once it has started). */
async function sessionSocket(session: Session): Promise<string> {
  let entry: string | undefined;
  await until(() => {
    const environ = readFileSync(`/proc/${session.pid}/environ`, 'latin1');
    entry = environ.split('\0').find((variable) => variable.startsWith('CKPTY_SOCKET='));
    return entry !== undefined;
  }, 5000, 'the session program to start');
  return entry!.slice('CKPTY_SOCKET='.length);
}

describe('output on its way to the master', () => {
  // A byte written on the slave reaches the master's read buffer a moment later (the
  // tty's flip buffer is pushed by a work queue). A freeze waits for the job's output by
  // unreadOutput: a 0 while bytes are on their way would leave them out of the image's screen.
  it('counts bytes written on the slave at once, every time', async () => {
    const pty = spawnPty({ file: 'sleep', args: ['30'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, cwd: '/', cols: 80, rows: 24 });
    const slave = openSync(pty.slavePath, constants.O_WRONLY | constants.O_NOCTTY);
    try {
      const seen: number[] = [];
      for (let i = 0; i < 200; i++) {
        writeSync(slave, 'x');
        seen.push(unreadOutput(pty.masterFd));
        // node-pty reads it before the next write.
        await until(() => unreadOutput(pty.masterFd) === 0, 1000, 'the byte to be read');
      }
      expect(seen.filter((n) => n !== 1)).toEqual([]);
    } finally {
      closeSync(slave);
      pty.kill('SIGKILL');
    }
  });
});
