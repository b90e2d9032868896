// 3. From the overview to the convoy's page: its figures, timeline and waterfall; and the
// weekly report of 2023-W30 with the README's figures.
const { test, expect } = require('@playwright/test');
const { api, getJson, tokens, heldConvoy, signIn, snap, HELD_REFERENCE } = require('../helpers');

test("the held convoy's link opens /convoys/<id>: 360.000 t outstanding, its timeline and waterfall", async ({ page }, testInfo) => {
  const id = await heldConvoy();
  const ctx = await api(tokens.viewer);
  const events = await getJson(ctx, `/api/v1/convoys/${id}/events`);
  await ctx.dispose();
  // The demo's three events: departed GORIS, arrived and held at KORNIDZOR.
  expect(events.map((e) => [e.kind, e.checkpoint])).toEqual([
    ['departed', 'GORIS'],
    ['arrived', 'KORNIDZOR'],
    ['held', 'KORNIDZOR'],
  ]);

  await signIn(page, tokens.viewer);
  await Promise.all([
    page.waitForURL((u) => u.pathname === `/convoys/${id}`),
    page.locator(`#convoys-now tr[data-convoy="${id}"] a[href="/convoys/${id}"]`).click(),
  ]);
  await expect(page.locator('h1')).toContainText(HELD_REFERENCE);
  await expect(page.locator('h1')).toContainText('held');
  await expect(page.locator('[data-figure="outstanding"]')).toHaveText('360.000 t');
  await expect(page.locator('[data-figure="planned"]')).toHaveText('360.000 t');
  await expect(page.locator('[data-figure="delivered"]')).toHaveText('0.000 t');

  const items = page.locator('ol#timeline > li[data-event]');
  await expect(items).toHaveCount(3);
  for (let i = 0; i < events.length; i += 1) {
    await expect(items.nth(i)).toHaveAttribute('data-event', events[i].id);
    await expect(items.nth(i)).toContainText(events[i].kind);
    await expect(items.nth(i)).toContainText(events[i].checkpoint);
  }
  await expect(items.nth(2)).toContainText('Not allowed through the Hakari checkpoint');

  const chart = page.locator('svg.waterfall');
  await expect(chart).toHaveCount(1);
  await expect(chart).toBeVisible();
  await expect(chart).toHaveAttribute('data-commodity', 'food');
  await snap(page, testInfo, 'convoy');
});

test('the weekly report 2023-W30 shows the 2,800.000 t requirement against 360.000 t planned', async ({ page }, testInfo) => {
  await signIn(page, tokens.viewer);
  await page.goto('/reports/weekly/2023-W30');
  await expect(page.locator('h1')).toContainText('2023-W30');
  // Thousands separated by a comma, three decimals, then " t".
  await expect(page.locator('#week-figures [data-figure="requirement"]')).toHaveText('2,800.000 t');
  await expect(page.locator('#week-figures [data-figure="planned"]')).toHaveText('360.000 t');
  await expect(page.locator('#week-figures [data-figure="delivered_during_week"]')).toHaveText('0.000 t');
  await snap(page, testInfo, 'report-2023-W30');

  await page.goto('/reports');
  await expect(page.locator('h1')).toBeVisible();
  await snap(page, testInfo, 'reports');

  await page.goto('/convoys');
  await expect(page.locator(`#convoy-list tr[data-convoy="${await heldConvoy()}"]`)).toContainText('360.000 t');
  await snap(page, testInfo, 'convoys');
});
