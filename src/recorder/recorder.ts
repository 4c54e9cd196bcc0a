/**
 * `--record FILE.cast`: records a session from its events. The host knows nothing of
 * recordings; a front end calls recordSession() right after starting the session.
 */
import { basename } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { CheckpointOutcome } from '../host/events.js';
import { OutputLine } from '../host/fresh-line.js';
import type { Session } from '../host/session.js';
import { statusLine, thawLine } from '../host/status.js';
import { CastWriter } from './cast-writer.js';
import { writingUserFile } from './files.js';

export interface RecordOptions {
  path: string;
  /** Record keyboard input too (`i` events); off by default, input can hold passwords. */
  input: boolean;
  /**
   * Record the status line after the checkpoint key, placed as plain mode places it in
   * the terminal. The full-screen terminal shows it in its own status bar instead.
   */
  statusLines: boolean;
  /** The program the session runs, for the recording's title. */
  command: string;
}

/**
 * Writes every event of `session` to a new recording until the session exits. If the
 * file cannot be created, the session is ended and the error thrown.
 */
export function recordSession(session: Session, options: RecordOptions): CastWriter {
  let writer: CastWriter;
  try {
    writer = writingUserFile(options.path, () => new CastWriter(options.path, {
      version: 2,
      width: session.cols,
      height: session.rows,
      timestamp: Math.floor(Date.now() / 1000),
      env: { TERM: process.env.TERM ?? '', SHELL: process.env.SHELL ?? '' },
      title: `ckpty: ${basename(options.command)}`,
    }));
  } catch (err) {
    // Not a session the user asked for: end it before anything runs in it.
    session.kill('SIGKILL');
    throw err;
  }
  // Output is bytes and may end inside a UTF-8 character: decode it as a stream.
  const output = new StringDecoder('utf8');
  const line = new OutputLine();
  const recordOutput = (data: Buffer): void => {
    line.output(data);
    writer.output(output.write(data));
  };
  const mark = (outcome: CheckpointOutcome): void => {
    const status = statusLine(outcome);
    if (options.statusLines) writer.output(output.write(line.place(status, session.cols)));
    writer.marker(status.replace(/^ckpt: /, ''));
  };

  session.on('output', recordOutput);
  session.on('key', () => line.markKey());
  session.on('froze', mark);
  session.on('snapshot', mark);
  session.on('refused', mark);
  session.on('thawed', (notice) => writer.marker(thawLine(notice)));
  session.on('resize', ({ cols, rows }) => writer.resize(cols, rows));
  if (options.input) {
    const input = new StringDecoder('utf8');
    session.on('input', (data) => writer.input(input.write(data)));
  }
  session.on('exit', () => writer.close());
  return writer;
}
