// 7. A viewer sees no write controls and cannot write by forging a form post; a form
// post from another site, or without this session's CSRF token, is refused with 403.
const { test, expect } = require('@playwright/test');
const { api, getJson, tokens, signIn, snap, csrfToken, BASE_URL } = require('../helpers');
const field = require('../field-selectors');

async function openAlerts(ctx) {
  const open = await getJson(ctx, '/api/v1/alerts?state=open');
  expect(open.items.length, 'the demo has open alerts').toBeGreaterThan(0);
  return open.items;
}

test('a viewer sees no acknowledge, resolve or record controls, and a forged post is 403', async ({ page }, testInfo) => {
  const admin = await api(tokens.admin);
  const alerts = await openAlerts(admin);
  const target = alerts[0];

  await signIn(page, tokens.viewer);
  await page.goto('/alerts');
  await expect(page.locator('article.alert[data-alert]')).toHaveCount(alerts.length);
  await expect(page.locator(`article.alert[data-alert="${target.id}"]`)).toBeVisible();
  await expect(page.locator('form.acknowledge')).toHaveCount(0);
  await expect(page.locator('form.resolve')).toHaveCount(0);
  await snap(page, testInfo, 'alerts-as-viewer');

  const csrf = await csrfToken(page);
  const forged = await page.request.post(`/alerts/${target.id}/acknowledge`, {
    form: { csrf, note: 'x' },
    maxRedirects: 0,
  });
  expect(forged.status(), 'a viewer acknowledging an alert').toBe(403);
  const resolve = await page.request.post(`/alerts/${target.id}/resolve`, {
    form: { csrf, note: 'x' },
    maxRedirects: 0,
  });
  expect(resolve.status(), 'a viewer resolving an alert').toBe(403);
  expect((await getJson(admin, `/api/v1/alerts/${target.id}`)).state).toBe('open');

  // The field app offers a viewer nothing to record.
  await page.goto('/field/');
  await expect(page.locator(field.app)).toBeVisible();
  await expect(page.locator(field.viewerNote)).toBeVisible();
  await expect(page.locator(field.writer)).toHaveCount(0);
  await expect(page.locator(field.record)).toHaveCount(0);
  await expect(page.locator('#field-app button[type="submit"], #field-app form')).toHaveCount(0);
  await snap(page, testInfo, 'field-as-viewer');
  await admin.dispose();
});

test('a cross-site form post, or one without the right csrf field, is 403 and changes nothing', async ({ page, context }, testInfo) => {
  const admin = await api(tokens.admin);
  const alerts = await openAlerts(admin);
  // The corridor's alert (a route's, which only an admin may act on).
  const target = alerts.find((a) => a.rule === 'corridor_dry') || alerts[0];

  await signIn(page, tokens.admin);
  await page.goto('/alerts');
  await expect(page.locator(`article.alert[data-alert="${target.id}"] form.acknowledge`)).toHaveCount(1);
  const csrf = await csrfToken(page);
  const url = `/alerts/${target.id}/acknowledge`;

  const attempts = [
    ['Origin: http://evil.example with the right csrf', { Origin: 'http://evil.example' }, { csrf, note: 'x' }],
    ['Referer from http://evil.example with the right csrf', { Referer: 'http://evil.example/page' }, { csrf, note: 'x' }],
    ['no csrf field', { Origin: BASE_URL }, { note: 'x' }],
    ['an empty csrf field', { Origin: BASE_URL }, { csrf: '', note: 'x' }],
    ['a wrong csrf field', { Origin: BASE_URL }, { csrf: `${csrf.slice(0, -2)}xx`, note: 'x' }],
  ];
  for (const [what, headers, form] of attempts) {
    const res = await page.request.post(url, { headers, form, maxRedirects: 0 });
    expect(res.status(), what).toBe(403);
  }
  expect((await getJson(admin, `/api/v1/alerts/${target.id}`)).state).toBe('open');

  // A real cross-site page: one served as http://localhost:<port> (another site than
  // 127.0.0.1, answered by Playwright itself) whose form posts to aidflow. The browser
  // sends no SameSite=Strict cookie with it and the Origin is foreign: nothing changes.
  const evilOrigin = BASE_URL.replace('127.0.0.1', 'localhost');
  await context.route(`${evilOrigin}/evil-page`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html lang="en"><title>evil</title><body>
        <form id="f" method="post" action="${BASE_URL}${url}">
          <input name="note" value="from another site"><input name="csrf" value="${csrf}">
        </form><script>document.getElementById('f').submit()</script></body></html>`,
    }),
  );
  const answered = page.waitForResponse((r) => r.url().startsWith(`${BASE_URL}${url}`) && r.request().method() === 'POST');
  await page.goto(`${evilOrigin}/evil-page`);
  const res = await answered;
  expect([403, 303], `the cross-site post was answered ${res.status()}`).toContain(res.status());
  await page.waitForLoadState('domcontentloaded');
  await snap(page, testInfo, 'cross-site-post-refused');
  expect((await getJson(admin, `/api/v1/alerts/${target.id}`)).state).toBe('open');

  // The same post from aidflow's own page, with its Origin and csrf, goes through.
  const ok = await page.request.post(url, { headers: { Origin: BASE_URL }, form: { csrf, note: 'checked' }, maxRedirects: 0 });
  expect(ok.status()).toBe(303);
  expect((await getJson(admin, `/api/v1/alerts/${target.id}`)).state).toBe('acknowledged');
  await admin.dispose();
});
