// Playwright settings for the aidflow browser suite. Run it through
// scripts/browser_tests.sh, which starts `aidflow serve` on a fresh database and sets
// BASE_URL, the tokens and SCREENSHOT_DIR. Debian's chromium is used as it is:
// Playwright downloads no browser (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
const { defineConfig } = require('@playwright/test');

if (!process.env.BASE_URL) {
  throw new Error('BASE_URL is not set: run the suite with scripts/browser_tests.sh sqlite|postgres');
}

module.exports = defineConfig({
  // scripts/docs_screenshots.sh points this at ./docs for the manual's pictures.
  testDir: process.env.BROWSER_SPECS || './specs',
  // The specs share one demo database and run in file order (01- … 08-): a later file
  // may see what an earlier one logged, never the other way round.
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  timeout: 60_000,
  globalTimeout: 240_000,
  expect: { timeout: 10_000 },
  outputDir: './test-results',
  reporter: [['list'], ['./reporters/summary.js']],
  use: {
    baseURL: process.env.BASE_URL,
    viewport: { width: 1280, height: 800 },
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    locale: 'en-GB',
    timezoneId: 'Asia/Yerevan',
    trace: 'off',
    screenshot: 'only-on-failure',
    serviceWorkers: 'allow',
    launchOptions: {
      executablePath: process.env.AIDFLOW_CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
});
