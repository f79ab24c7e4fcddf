// The UI benchmark's printout: figures by section, each target met or NOT met, and the gross
// failures that make the run exit non-zero (a benchmark, not a test: a missed target is a figure).
import * as fs from 'node:fs';
import * as path from 'node:path';

export class BenchReport {
  private readonly figures: [string, string][] = [];
  private readonly targets: { name: string; measured: string; met: boolean }[] = [];
  readonly gross: string[] = [];

  figure(name: string, value: string | number): void {
    this.figures.push([name, typeof value === 'number' ? value.toLocaleString('en-US') : value]);
  }

  target(name: string, measured: string, met: boolean): void {
    this.targets.push({ name, measured, met });
  }

  /** A result so far off that the run itself is broken (the engine stopped, nothing reached the page…). */
  grossIf(failed: boolean, what: string): void {
    if (failed) this.gross.push(what);
  }

  text(): string {
    const width = Math.max(...this.figures.map(([name]) => name.length), 30);
    const lines = ['', 'UI benchmark (real engine, browser host, Debian Chromium)', ''];
    for (const [name, value] of this.figures) lines.push(`  ${name.padEnd(width)}  ${value}`);
    lines.push('', 'Targets:');
    const targetWidth = Math.max(...this.targets.map((t) => t.name.length), 30);
    for (const t of this.targets) lines.push(`  ${t.met ? 'met    ' : 'NOT met'}  ${t.name.padEnd(targetWidth)}  ${t.measured}`);
    if (this.gross.length) lines.push('', 'Gross failures (exit non-zero):', ...this.gross.map((g) => `  ${g}`));
    return lines.join('\n');
  }

  /** Also kept as JSON beside the test results, for the README. */
  save(directory: string): string {
    fs.mkdirSync(directory, { recursive: true });
    const file = path.join(directory, `ui-bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify({ figures: this.figures, targets: this.targets, gross: this.gross }, null, 2));
    return file;
  }
}
