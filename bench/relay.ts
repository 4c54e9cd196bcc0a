/**
 * The bare baseline for `ckpty shell`: a program on node-pty relayed to and from this
 * terminal, as script(1) does, with nothing else — no line-discipline layer, no control
 * channel. The outer terminal goes raw (stty raw -echo, as ckpty's plain mode makes it);
 * output that the terminal cannot take pauses the program (same back pressure as ckpty).
 *
 *   node dist-bench/relay.js PROGRAM [ARGS...]
 */
import { spawnSync } from 'node:child_process';
import * as nodePty from 'node-pty';

const [file, ...args] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: relay.js PROGRAM [ARGS...]\n');
  process.exit(2);
}
const { stdin, stdout } = process;
if (stdin.isTTY) spawnSync('stty', ['raw', '-echo'], { stdio: ['inherit', 'ignore', 'inherit'] });
const term = nodePty.spawn(file, args, {
  name: process.env.TERM ?? 'xterm-256color',
  cols: stdout.columns ?? 80,
  rows: stdout.rows ?? 24,
  cwd: process.cwd(),
  env: process.env,
  // Bytes: with encoding null node-pty hands out Buffers (its typings say string).
  encoding: null,
});
term.onData((data) => {
  if (!stdout.write(data as unknown as Buffer)) {
    term.pause();
    stdout.once('drain', () => term.resume());
  }
});
stdin.on('data', (data: Buffer) => term.write(data));
term.onExit(({ exitCode }) => {
  if (stdin.isTTY) spawnSync('stty', ['sane'], { stdio: ['inherit', 'ignore', 'inherit'] });
  process.exit(exitCode);
});
