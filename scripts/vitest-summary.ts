/**
 * Prints one plain closing line, "<project>: N passed, N failed, N skipped", after
 * vitest's own report, so that CI and people reading a log see the count at a glance.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const projects = new Set<string>();
    for (const m of modules) {
      projects.add(m.project.name || 'tests');
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    const label = projects.size === 1 ? [...projects][0] : 'tests';
    console.log(`\n${label}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}
