#!/usr/bin/env node
/**
 * The bare baseline for `ckpty shell`: a program on node-pty relayed to and from this
 * terminal, as script(1) does, with nothing else — no line-discipline layer, no control
 * channel. The outer terminal goes raw (stty raw -echo, as ckpty's plain mode makes it);
 * output that the terminal cannot take pauses the program (same back pressure as ckpty).
 *
 *   node bench/relay.js PROGRAM [ARGS...]
 */
import { spawnSync } from 'node:child_process';
import * as nodePty from 'node-pty';

const [file, ...args] = process.argv.slice(2);
const { stdin, stdout } = process;
if (stdin.isTTY) spawnSync('stty', ['raw', '-echo'], { stdio: ['inherit', 'ignore', 'inherit'] });
const term = nodePty.spawn(file, args, {
  name: process.env.TERM ?? 'xterm-256color',
  cols: stdout.columns ?? 80,
  rows: stdout.rows ?? 24,
  cwd: process.cwd(),
  env: process.env,
  encoding: null,
});
term.onData((data) => {
  if (!stdout.write(data)) {
    term.pause();
    stdout.once('drain', () => term.resume());
  }
});
stdin.on('data', (data) => term.write(data));
term.onExit(({ exitCode }) => {
  if (stdin.isTTY) spawnSync('stty', ['sane'], { stdio: ['inherit', 'ignore', 'inherit'] });
  process.exit(exitCode);
});
