// 2. The corridor overview shows the demo's convoy held at KORNIDZOR.
const { test, expect } = require('@playwright/test');
const { api, getJson, tokens, heldConvoy, signIn, snap, HELD_REFERENCE } = require('../helpers');

test('the overview shows AM-2023-07-26 held at KORNIDZOR with 360.000 t', { tag: '@postgres' }, async ({ page }, testInfo) => {
  const id = await heldConvoy();
  await signIn(page, tokens.viewer);

  const row = page.locator(`#convoys-now tr[data-convoy="${id}"]`);
  await expect(row).toHaveCount(1);
  await expect(row).toContainText(HELD_REFERENCE);
  await expect(row).toContainText('KORNIDZOR');
  await expect(row).toContainText('held');
  await expect(row).toContainText('360.000 t');

  // The route schematic: the convoy's marker, held.
  const marker = page.locator(`svg g.convoy[data-convoy="${id}"][data-status="held"]`);
  await expect(marker).toHaveCount(1);
  await expect(marker).toContainText(HELD_REFERENCE);

  // Tonnes waiting at KORNIDZOR: the 360.000 t of AM-2023-07-26 and the 20.000 t of the
  // French truck FR-2023-08-05, held there too in the demo: 380.000 t.
  const waiting = page.locator('#checkpoint-waiting tr', { hasText: 'KORNIDZOR' });
  await expect(waiting).toHaveCount(1);
  await expect(waiting).toContainText('380.000 t');
  await snap(page, testInfo, 'overview');

  // The same figures through the API.
  const ctx = await api(tokens.viewer);
  const convoy = await getJson(ctx, `/api/v1/convoys/${id}`);
  expect([convoy.status, convoy.last_checkpoint, convoy.outstanding]).toEqual(['held', 'KORNIDZOR', '360.000']);
  await ctx.dispose();
});
