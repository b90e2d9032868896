// The harness itself: the server answers /health/ready, chromium opens it, and the three
// tokens created by scripts/browser_tests.sh read the API.
const { test, expect } = require('@playwright/test');
const { api, tokens, heldConvoy, snap, HELD_REFERENCE } = require('../helpers');

test('the server is ready and the demo is loaded', { tag: '@postgres' }, async ({ page }, testInfo) => {
  const res = await page.goto('/health/ready');
  expect(res.status()).toBe(200);
  await snap(page, testInfo, 'health-ready');

  for (const role of ['admin', 'editor', 'viewer']) {
    const ctx = await api(tokens[role]);
    const r = await ctx.get('/api/v1/routes');
    expect(r.status(), `GET /api/v1/routes as the ${role}`).toBe(200);
    await ctx.dispose();
  }

  const ctx = await api(tokens.admin);
  const id = await heldConvoy();
  const convoy = await (await ctx.get(`/api/v1/convoys/${id}`)).json();
  expect([convoy.reference, convoy.status, convoy.last_checkpoint, convoy.outstanding]).toEqual([
    HELD_REFERENCE,
    'held',
    'KORNIDZOR',
    '360.000',
  ]);
  await ctx.dispose();
});
