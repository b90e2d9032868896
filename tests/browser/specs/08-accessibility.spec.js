// 8. axe-core on every page: no violation of impact serious or critical.
const { test, expect } = require('@playwright/test');
const { AxeBuilder } = require('@axe-core/playwright');
const { tokens, heldConvoy, signIn, snap } = require('../helpers');
const field = require('../field-selectors');

// Checked at both widths the screenshots use: a phone's 360 px and a desktop's 1280 px.
async function expectNoSeriousViolations(page, testInfo, what) {
  const described = [];
  for (const size of [{ width: 360, height: 800 }, { width: 1280, height: 800 }]) {
    await page.setViewportSize(size);
    const results = await new AxeBuilder({ page }).analyze();
    await testInfo.attach(`axe-${what}-${size.width}.json`, {
      body: JSON.stringify(results.violations, null, 2),
      contentType: 'application/json',
    });
    for (const v of results.violations) {
      if (v.impact !== 'serious' && v.impact !== 'critical') continue;
      const where = v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(' | ');
      described.push(`${size.width}px ${v.impact} ${v.id}: ${v.help} — ${where}`);
    }
  }
  expect(described, `axe on ${what}: serious or critical violations`).toEqual([]);
}

test('axe: /sign-in, empty and after a refused token', async ({ page }, testInfo) => {
  await page.goto('/sign-in');
  await snap(page, testInfo, 'sign-in');
  await expectNoSeriousViolations(page, testInfo, 'sign-in');
  await page.locator('#token').fill('afw_wrong');
  await page.locator('form:has(#token) [type="submit"]').first().click();
  await expect(page.locator('[role="alert"]')).toBeVisible();
  await snap(page, testInfo, 'sign-in-error');
  await expectNoSeriousViolations(page, testInfo, 'sign-in-error');
});

const pages = [
  ['overview', async () => '/'],
  ['convoys', async () => '/convoys'],
  ['convoy', async () => `/convoys/${await heldConvoy()}`],
  ['reports', async () => '/reports'],
  ['report-2023-W30', async () => '/reports/weekly/2023-W30'],
  ['alerts', async () => '/alerts'],
  ['alerts-acknowledged', async () => '/alerts?state=acknowledged'],
];

for (const [name, path] of pages) {
  test(`axe: ${name} as the admin`, async ({ page }, testInfo) => {
    await signIn(page, tokens.admin);
    const url = await path();
    const res = await page.goto(url);
    expect(res.status(), `GET ${url}`).toBe(200);
    await expect(page.locator('main h1')).toBeVisible();
    await snap(page, testInfo, name);
    await expectNoSeriousViolations(page, testInfo, name);
  });
}

test('axe: the field app /field/ as the editor', async ({ page }, testInfo) => {
  await signIn(page, tokens.editor);
  const res = await page.goto('/field/');
  expect(res.status()).toBe(200);
  await expect(page.locator(field.app)).toBeVisible();
  await field.ready(page);
  await snap(page, testInfo, 'field');
  await expectNoSeriousViolations(page, testInfo, 'field');
});
