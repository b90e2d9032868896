// 4. The editor logs "cleared" at KORNIDZOR in the field app; the overview, open in a
// second page and never reloaded, stops showing the convoy held there within 20 s.
const { test, expect } = require('@playwright/test');
const { api, getJson, tokens, heldConvoy, signIn, snap, HELD_REFERENCE } = require('../helpers');
const field = require('../field-selectors');

test('a cleared logged in the field app reaches the open overview within 20 s', { tag: '@postgres' }, async ({ context, page }, testInfo) => {
  test.setTimeout(90_000);
  const id = await heldConvoy();
  await signIn(page, tokens.editor);

  // The overview, kept open: it refreshes itself every few seconds.
  const overview = page;
  await expect(overview.locator('#live')).toHaveAttribute('data-refresh-seconds', /^[1-9][0-9]*$/);
  const refresh = Number(await overview.locator('#live').getAttribute('data-refresh-seconds'));
  expect(refresh).toBeLessThanOrEqual(10);
  const row = overview.locator(`#convoys-now tr[data-convoy="${id}"]`);
  await expect(row).toHaveAttribute('data-status', 'held');
  await expect(overview.locator(`svg g.convoy[data-convoy="${id}"]`)).toHaveAttribute('data-status', 'held');
  await expect(overview.locator('#checkpoint-waiting tr', { hasText: 'KORNIDZOR' })).toContainText('380.000 t');
  await overview.evaluate(() => {
    window.__notReloaded = true;
  });
  await snap(overview, testInfo, 'overview-before');

  // The field app in a second page of the same browser.
  const fieldPage = await context.newPage();
  await fieldPage.goto('/field/');
  await field.ready(fieldPage);
  await snap(fieldPage, testInfo, 'field-open');
  await field.logEvent(fieldPage, { convoyId: id, reference: HELD_REFERENCE, kind: 'cleared', checkpoint: 'KORNIDZOR' });
  const entries = fieldPage.locator(field.entries);
  await expect(entries).toHaveCount(1);
  const [clientId] = await field.entryIds(fieldPage);
  expect(clientId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  await expect(fieldPage.locator(field.entry(clientId))).toHaveAttribute('data-state', 'sent', { timeout: 15_000 });
  await snap(fieldPage, testInfo, 'field-sent');

  // The overview changes by itself: no longer held at KORNIDZOR.
  const started = Date.now();
  await expect(row).not.toHaveAttribute('data-status', 'held', { timeout: 20_000 });
  const seconds = (Date.now() - started) / 1000;
  testInfo.annotations.push({ type: 'overview updated after', description: `${seconds.toFixed(1)} s` });
  console.log(`the overview showed the cleared convoy ${seconds.toFixed(1)} s after the field app sent it`);
  await expect(row).toHaveAttribute('data-status', 'in_transit');
  await expect(row).toContainText('in transit');
  await expect(row).not.toContainText('held');
  await expect(overview.locator(`svg g.convoy[data-convoy="${id}"]`)).toHaveAttribute('data-status', 'in_transit');
  await expect(overview.locator(`svg g.convoy[data-convoy="${id}"][data-status="held"]`)).toHaveCount(0);
  // Only the French truck's 20.000 t still waits at KORNIDZOR (soft: the checks below run
  // and report too; the test still fails on it).
  await expect.soft(overview.locator('#checkpoint-waiting tr', { hasText: 'KORNIDZOR' })).toContainText('20.000 t');
  expect(await overview.evaluate(() => window.__notReloaded), 'the overview was not reloaded').toBe(true);
  await snap(overview, testInfo, 'overview-after');

  // Stored once, as logged.
  const ctx = await api(tokens.viewer);
  const events = await getJson(ctx, `/api/v1/convoys/${id}/events`);
  const mine = events.filter((e) => e.id === clientId);
  expect(mine).toHaveLength(1);
  expect([mine[0].kind, mine[0].checkpoint, mine[0].recorded_by]).toEqual(['cleared', 'KORNIDZOR', 'browser-editor-arm-gov']);
  const convoy = await getJson(ctx, `/api/v1/convoys/${id}`);
  expect([convoy.status, convoy.last_checkpoint, convoy.outstanding]).toEqual(['in_transit', 'KORNIDZOR', '360.000']);
  await ctx.dispose();
});
