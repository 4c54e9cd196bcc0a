/**
 * `npm run bench` must not rot: its smoke run (--quick) measures every section against
 * the real ckpty, prints the targets' paths with their peers and targets, the tables with
 * the previous results beside them, and the targets, writes a results file that parses,
 * and leaves no scratch directory or process behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
/** The compiled bench, as `npm run bench` runs it (`npm run typecheck` builds it too). */
const benchRun = join(root, 'dist-bench', 'run.js');
const scratch = mkdtempSync(join(tmpdir(), 'ckpty-bench-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Row {
  id: string;
  section: string;
  values: number[];
  unavailable?: string;
  failed?: string;
  summary?: { n: number; median: number; min: number; max: number };
}

interface Report {
  command: string;
  previous?: string;
  machine: { cores: number; memoryBytes: number; kernel: string; cpu: string; fsType?: string; fsStatType?: string };
  rows: Row[];
  targets: { id: string; text: string; pass: boolean | null; measured: string; value?: number }[];
}

/** Processes whose command line mentions the bench's scratch directory (subjects, images being thawed). */
function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ');
      if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // Ended meanwhile.
    }
  }
  return found;
}

interface Run {
  pid: number;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the bench; `interrupt(stderr)` may return a signal to send once its progress shows something. */
function runBench(args: string[], interrupt?: (stderr: string) => NodeJS.Signals | undefined): Promise<Run> {
  return new Promise((resolve) => {
    // Its sessions' temporary directories (control sockets) would land in the scratch directory.
    const child = spawn(process.execPath, [benchRun, ...args], { cwd: root, env: { ...process.env, TMPDIR: scratch } });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const signal = sent ? undefined : interrupt?.(stderr);
      if (signal) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('close', (status, signal) => resolve({ pid: child.pid!, status, signal, stdout, stderr }));
  });
}

describe('npm run bench --quick', () => {
  const out = join(scratch, 'results.json');
  // An earlier run's results: its numbers are printed beside this run's.
  const previous = join(scratch, 'previous-quick.json');
  let run: Run;
  beforeAll(async () => {
    if (!existsSync(benchRun)) throw new Error('dist-bench/ is not built: run `npm run typecheck` first');
    const rows = [
      { id: 'freeze/bc/gcore', unit: 'ms', values: [12345, 12345] },
      { id: 'freeze/python3/key', unit: 'ms', values: [98.7] },
    ];
    writeFileSync(previous, JSON.stringify({ date: '2026-01-01T00:00:00.000Z', rows }));
    run = await runBench(['--quick', '--out', out, '--dir', scratch, '--previous', previous]);
  }, 240_000);

  it('finishes and prints every section and the targets as tables', () => {
    expect(run.status, run.stderr).toBe(0);
    for (const title of ['Freeze:', 'Thaw:', 'Round trip:', 'Keystroke round trip:', 'Output throughput:', 'Targets']) {
      expect(run.stdout).toContain(title);
    }
    expect(run.stdout).toMatch(/^machine: .+, \d+ cores, [\d.]+ GiB RAM, Linux /m);
    // A table: header, dashes under each column, rows.
    expect(run.stdout).toMatch(/^subject +how +median +spread +n +previous +size +compared in this run\n-+ +-+ +-+/m);
    expect(run.stdout).toMatch(/^bc +ckpty key path \(resident freezer\) +[\d.]+ m?s +[\d.]+–[\d.]+ +1 +[\d.]+ KiB/m);
    expect(run.stdout).toMatch(/ (pass|MISS|n\/a)$/m);
  });

  it("prints the targets' paths first, each with its peer from the same run, the ratio, the target and the verdict", () => {
    const headline = run.stdout.slice(run.stdout.indexOf("The targets' paths"), run.stdout.indexOf('Freeze:'));
    expect(headline).toContain('(previous: previous-quick.json)');
    expect(headline).toMatch(/^path +ckpty +previous +peer \(this run\) +ratio +target +result$/m);
    const lines = (start: string) => headline.split('\n').filter((l) => l.startsWith(start));
    // The rows of the targets' table, each with its peer.
    for (const [path = '', peer = ''] of [
      ['^E → status line, bc', 'gcore'],
      ['^E → status line, python3', 'gcore'],
      ['freezer alone (key path), python3', 'gcore'],
      ['`ckpty freeze PID`, bc', 'gcore'],
      ['`ckpty freeze PID`, 1 MiB', 'gcore'],
      ['`ckpty freeze PID`, 64.0 MiB dirty', 'gcore'],
      ['`ckpty freeze PID`, 64.0 MiB dirty', 'dd conv=fsync'],
      ['`ckpty thaw` until the program answers, bc', 'native thawer'],
      ['full-screen `ckpty`: cat', 'relay'],
      ['full-screen `ckpty`: cat', 'tmux'],
      ['full-screen `ckpty`: keystroke p99', 'relay'],
      ['4-thread program: freezer alone (key path)', 'gcore'],
      ['4-thread program: `ckpty thaw` until it answers', 'native thawer'],
      ['3-process pipeline: `ckpty freeze PID`', 'gcore'],
      ['3-process pipeline: `ckpty thaw` until it answers', 'native thawer'],
    ]) {
      const line = lines(path).find((l) => l.includes(` ${peer} `));
      expect(line, `${path} vs ${peer}`).toBeDefined();
      // Both numbers, then a ratio; a verdict where a target is set, "none set" where not.
      expect(line, line).toMatch(/ [\d.]+ (ms|s|MiB\/s) .* [\d.]+ (ms|s|MiB\/s) +\S.* (pass|MISS|n\/a|none set)$/);
    }
    // The previous results file's number beside this run's.
    expect(lines('freezer alone (key path), python3')[0]).toMatch(/ [\d.]+ m?s +98\.7 ms +gcore /);
  });

  it("prints the previous results file's numbers in the section tables", () => {
    expect(run.stdout).toMatch(/^bc +gcore +[\d.]+ m?s +[\d.]+–[\d.]+ +1 +12\.3 s +/m);
    expect((JSON.parse(readFileSync(out, 'utf8')) as Report).previous).toBe(previous);
  });

  it('writes valid JSON: the machine, every row measured or saying why not, and the targets', () => {
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.memoryBytes).toBeGreaterThan(0);
    expect(report.machine.kernel).toMatch(/^\d+\.\d+/);
    expect(report.machine.fsType ?? report.machine.fsStatType).toBeTruthy();
    const ids = report.rows.map((r) => r.id);
    for (const id of [
      'freeze/bc/key',
      'freeze/bc/gcore',
      'dd/1M',
      'freeze/threads-4/key',
      'freeze/threads-4/gcore',
      'freeze/pipeline-3/cli',
      'freeze/pipeline-3/gcore',
      'thaw/dirty-1M/native',
      'thaw/threads-4/cli',
      'thaw/pipeline-3/native',
      'roundtrip/python3',
      'keys/node-pty',
      'throughput/relay',
    ]) {
      expect(ids).toContain(id);
    }
    const failed = report.rows.filter((r) => r.failed).map((r) => `${r.id}: ${r.failed}`);
    expect(failed).toEqual([]);
    for (const row of report.rows) {
      if (row.unavailable) {
        expect(row.values).toEqual([]);
        continue;
      }
      expect(row.values.length, row.id).toBeGreaterThan(0);
      for (const v of row.values) expect(Number.isFinite(v) && v > 0, `${row.id}: ${v}`).toBe(true);
      expect(row.summary!.min).toBeLessThanOrEqual(row.summary!.median);
      expect(row.summary!.median).toBeLessThanOrEqual(row.summary!.max);
    }
    const targets = report.targets.map((t) => t.id);
    expect(targets).toEqual(
      expect.arrayContaining([
        'freeze-bc-key',
        'freeze-dirty-1M-cli',
        'freeze-large-cli-vs-gcore',
        'freeze-large-cli-vs-dd',
        'freeze-large-vs-dd',
        'image-size-bc',
        'image-size-pipeline-3',
        'thaw-bc-cli',
        'thaw-large-vs-small',
        'throughput-session',
        'throughput-fullscreen-vs-tmux',
        'keys-session',
      ]),
    );
    for (const target of report.targets) {
      // A verdict on a measured number, or "not measured" with the reason: never a silent gap.
      if (target.pass === null) expect(target.measured, target.id).toMatch(/^not measured: \S/);
      else expect({ pass: typeof target.pass, finite: Number.isFinite(target.value) }, target.id).toEqual({ pass: 'boolean', finite: true });
    }
  });

  it("makes README's table from its results file: a line per target, with each run's figures and verdict", () => {
    const table = spawnSync(process.execPath, [join(root, 'dist-bench', 'readme-table.js'), out, out], { encoding: 'utf8' });
    expect(table.status, table.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^- `results\.json`: .+, \d+ cores, [\d.]+ GiB RAM, Linux .+; load average /);
    expect(lines).toContain('| target | `results.json` | `results.json` | result |');
    for (const target of report.targets) {
      const verdict = target.pass === null ? 'n/a' : target.pass ? 'pass' : '**miss**';
      const line = lines.find((l) => l.startsWith(`| ${target.text.replaceAll('|', '\\|')} |`));
      expect(line, target.id).toBeDefined();
      expect(line!.endsWith(` | ${verdict}, ${verdict} |`), line).toBe(true);
      // Both runs' cells say what the target measured.
      expect(line!.split(target.measured.replaceAll('|', '\\|')).length, line).toBe(3);
    }
    const keyPath = lines.find((l) => l.startsWith('| bc: key path (resident freezer) '));
    expect(keyPath).toMatch(/ [\d.]+ ms vs [\d.]+ ms: [\d.]+x (faster|slower) \|/);
  });

  it('says why it cannot make a table from a file that is not a results file', () => {
    const bad = join(scratch, 'not-results.json');
    writeFileSync(bad, '{"rows": []}');
    const table = spawnSync(process.execPath, [join(root, 'dist-bench', 'readme-table.js'), bad], { encoding: 'utf8' });
    expect({ status: table.status, stdout: table.stdout }).toEqual({ status: 1, stdout: '' });
    expect(table.stderr).toBe(`bench:table: ${bad} is not a results file of npm run bench (no machine, rows or targets)\n`);
  });

  it('removes its scratch files and processes on the way out', () => {
    expect(readdirSync(scratch).filter((name) => name.startsWith('.work-') || name.startsWith('ckpty-'))).toEqual([]);
    expect(existsSync(join(scratch, `.work-${run.pid}`))).toBe(false);
    expect(processesUsing(join(scratch, `.work-${run.pid}`))).toEqual([]);
  });
});

describe('an interrupted bench', () => {
  it('kills its subjects and removes its scratch directory on ^C', async () => {
    const dir = mkdtempSync(join(scratch, 'interrupted-'));
    // Interrupted in the middle of the freeze section, with subjects and images around.
    const run = await runBench(['--quick', '--only', 'freeze', '--out', join(dir, 'never.json'), '--dir', dir], (stderr) =>
      /freeze \.\./.test(stderr) ? 'SIGINT' : undefined,
    );
    expect(run.status, run.stderr).toBe(130);
    expect(run.stderr).toContain('SIGINT, cleaning up');
    expect(readdirSync(dir)).toEqual([]);
    expect(processesUsing(join(dir, `.work-${run.pid}`))).toEqual([]);
  }, 120_000);
});

describe("the thaw section's repetitions", () => {
  it('end a thaw only once the processes it killed are gone, the zombies of killed parents included', async () => {
    const { PtyProcess } = (await import(join(root, 'dist-bench', 'lib', 'pty.js'))) as typeof import('../bench/lib/pty.js');
    const { findDescendant } = (await import(join(root, 'dist-bench', 'lib', 'proc.js'))) as typeof import('../bench/lib/proc.js');
    // A parent and its child below the pty's leader, as in a thawed pipeline: killed
    // together, the child's zombie is left to init, which collects it when it will.
    const pty = new PtyProcess('sh', ['-c', 'sh -c "sleep 300; :"; :']);
    const sleeper = await findDescendant(pty.pid, 'sleep');
    await pty.closeChildrenFirst();
    // The number the next thaw of the same image wants is free again.
    expect(existsSync(`/proc/${sleeper}`)).toBe(false);
  }, 30_000);
});
