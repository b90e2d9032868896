// The manual's pictures (docs/src/images/web-*.png): one per view, taken from the demo by
// scripts/docs_screenshots.sh. Small on purpose: the visible part of each page, at scale 1.
const path = require('path');
const { test, expect } = require('@playwright/test');
const { heldConvoy, signIn } = require('../helpers');

const OUT = process.env.DOCS_IMAGES;

async function picture(page, name, viewport) {
  await page.setViewportSize(viewport);
  await page.screenshot({ path: path.join(OUT, `web-${name}.png`), fullPage: false });
}

test('pictures of every view for the manual', async ({ page }) => {
  expect(OUT, 'DOCS_IMAGES names the folder for the pictures').toBeTruthy();
  const desktop = { width: 1100, height: 760 };
  await page.setViewportSize(desktop);
  await page.goto('/sign-in');
  await picture(page, 'sign-in', { width: 1100, height: 520 });
  await signIn(page, process.env.AIDFLOW_EDITOR_TOKEN);
  await expect(page.locator('#convoys-now')).toContainText('KORNIDZOR');
  await picture(page, 'overview', desktop);
  await page.goto('/convoys');
  await picture(page, 'convoys', desktop);
  const id = await heldConvoy();
  await page.goto(`/convoys/${id}`);
  await expect(page.locator('[data-figure="outstanding"]')).toHaveText('360.000 t');
  await page.locator('#totals').scrollIntoViewIfNeeded();
  await picture(page, 'convoy', desktop);
  await page.goto('/reports/weekly/2023-W30');
  await picture(page, 'week', desktop);
  await page.goto('/alerts');
  await picture(page, 'alerts', desktop);
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto('/field/');
  await expect(page.locator('#convoy-picker [data-convoy-id]').first()).toBeVisible();
  await picture(page, 'field', { width: 360, height: 740 });
});
