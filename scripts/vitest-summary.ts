/**
 * Prints one plain closing line, "<project>: N passed, N failed, N skipped", after
 * vitest's own report, so that CI and people reading a log see the count at a glance.
 * A file that failed outside its tests (an import error, a failing beforeAll: its tests
 * then count as skipped) is named on the line too, so "0 failed" never hides it.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let filesFailed = 0;
    const projects = new Set<string>();
    for (const m of modules) {
      projects.add(m.project.name || 'tests');
      if (m.state() === 'failed') filesFailed++;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    // Projects split into parts (e2e-parallel, e2e-serial) report under their common name.
    const names = new Set([...projects].map((p) => p.replace(/-(parallel|serial)$/, '')));
    const label = names.size === 1 ? [...names][0] : 'tests';
    const files = filesFailed > 0 ? ` (${filesFailed} file${filesFailed === 1 ? '' : 's'} failed)` : '';
    console.log(`\n${label}: ${passed} passed, ${failed} failed, ${skipped} skipped${files}`);
  }
}
