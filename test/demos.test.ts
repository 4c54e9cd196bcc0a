/**
 * Every tape in demos/ runs here, so the demos can never rot: each asserts its key
 * moments with Wait, and its recording must be valid asciicast v2 with the markers the
 * demo is about, readable by asciinema too.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { asciinemaCat, hasAsciinema, markersOf, outputOf, readCast, removeScratchDirs, REPO, runCkpty, scratchDir } from './helpers/recorder.js';

afterAll(removeScratchDirs);

const DEMOS = join(REPO, 'demos');

/** The markers each demo's recording must hold, in order. */
const EXPECTED_MARKERS: Record<string, RegExp[]> = {
  'freeze-thaw.tape': [/^froze bc\[\d+\] -> \/\S+\/bc\.ckpt \(.+\)$/, /^thawed bc\[\d+\] from \/\S+\/bc\.ckpt$/],
  'snapshot.tape': [/^snapshot of bc\[\d+\] -> \/\S+\/bc\.ckpt \(.+\)$/, /^thawed bc\[\d+\] from \/\S+\/bc\.ckpt$/],
  'stty-ckpt.tape': [/^froze sleep\[\d+\] -> \/\S+\/sleep\.ckpt \(.+\)$/],
  'refused.tape': [/^python3\[\d+\] not frozen: open files the thaw cannot rebuild: fd 3 \(TCP socket\)$/, /^sleep\[\d+\] not frozen: .*RLIMIT_CORE/],
  'info.tape': [/^froze sleep\[\d+\] -> /],
  'gdb.tape': [/^froze sleep\[\d+\] -> /],
  'raw-prefix.tape': [/^froze python3\[\d+\] -> \/\S+\/python3\.ckpt \(.+\)$/, /^thawed python3\[\d+\] from \/\S+\/python3\.ckpt$/],
};

const tapes = readdirSync(DEMOS).filter((name) => name.endsWith('.tape')).sort();

describe('demos/', () => {
  it('has a tape for every capability, and an expectation for every tape', () => {
    expect(tapes).toEqual(Object.keys(EXPECTED_MARKERS).sort());
  });

  for (const tape of tapes) {
    it(`${tape} runs, passes its Waits and records its markers`, async () => {
      const dir = scratchDir('ckpty-demo-test-');
      const cast = join(dir, tape.replace(/\.tape$/, '.cast'));
      const result = await runCkpty(['tape', join(DEMOS, tape), '-o', cast, '--screenshot', join(dir, 'end.svg')], { cwd: dir });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const recording = readCast(cast);
      const markers = markersOf(recording);
      const expected = EXPECTED_MARKERS[tape] ?? [];
      expect(markers).toEqual(expected.map((pattern) => expect.stringMatching(pattern)));
      if (hasAsciinema) {
        const cat = await asciinemaCat(cast);
        expect(cat.exitCode).toBe(0);
        expect(cat.output).toBe(outputOf(recording));
      }
    });
  }
});
