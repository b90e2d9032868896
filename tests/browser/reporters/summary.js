// Prints one closing line, "browser: N passed, N failed, N skipped", so a reader of the
// CI log (and its tooling) sees the counts of this suite in the usual form.
class Summary {
  constructor() {
    this.counts = { passed: 0, failed: 0, skipped: 0 };
  }

  onTestEnd(test, result) {
    // Only a test's last attempt counts (there are no retries, but be exact).
    if (result.retry < test.retries && result.status !== 'passed' && result.status !== 'skipped') return;
    if (result.status === 'passed') this.counts.passed += 1;
    else if (result.status === 'skipped') this.counts.skipped += 1;
    else this.counts.failed += 1;
  }

  onEnd() {
    const { passed, failed, skipped } = this.counts;
    process.stdout.write(`browser: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }

  printsToStdio() {
    return true;
  }
}

module.exports = Summary;
