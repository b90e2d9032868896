// 6. Acknowledging an open alert on /alerts as the editor of the convoy's organization.
const { test, expect } = require('@playwright/test');
const { api, getJson, tokens, heldConvoy, signIn, snap, EDITOR_ORGANIZATION } = require('../helpers');

test('the editor acknowledges an open alert; the page and the API say acknowledged', async ({ page }, testInfo) => {
  const convoyId = await heldConvoy();
  const admin = await api(tokens.admin);
  // The alert evaluator ran when the server started: AM-2023-07-26 is long overdue.
  const open = await getJson(admin, `/api/v1/alerts?state=open&organization=${EDITOR_ORGANIZATION}`);
  const alert = open.items.find((a) => a.rule === 'convoy_overdue' && a.subject === convoyId);
  expect(alert, `an open convoy_overdue alert of AM-2023-07-26 among ${JSON.stringify(open.items.map((a) => [a.rule, a.subject_label]))}`).toBeTruthy();

  await signIn(page, tokens.editor);
  await page.goto('/alerts');
  const article = page.locator(`article.alert[data-alert="${alert.id}"]`);
  await expect(article).toHaveCount(1);
  await expect(article).toHaveAttribute('data-state', 'open');
  await expect(article).toContainText(alert.message);
  await snap(page, testInfo, 'alerts-open');

  const note = 'Still at Kornidzor; the liaison officer was called (browser test).';
  const form = article.locator('form.acknowledge');
  await expect(form).toHaveCount(1);
  await form.locator('[name="note"]').fill(note);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/alerts' && u.searchParams.get('state') === 'acknowledged'),
    form.locator('[type="submit"]').click(),
  ]);

  const acknowledged = page.locator(`article.alert[data-alert="${alert.id}"]`);
  await expect(acknowledged).toHaveAttribute('data-state', 'acknowledged');
  await expect(acknowledged.locator('.state')).toHaveText('acknowledged');
  await expect(acknowledged).toContainText(note);
  await expect(acknowledged).toContainText('browser-editor-arm-gov');
  // Acknowledged, not resolved: it can still be resolved, but not acknowledged again.
  await expect(acknowledged.locator('form.acknowledge')).toHaveCount(0);
  await expect(acknowledged.locator('form.resolve')).toHaveCount(1);
  await snap(page, testInfo, 'alerts-acknowledged');

  // No longer among the open ones.
  await page.goto('/alerts');
  await expect(page.locator(`article.alert[data-alert="${alert.id}"]`)).toHaveCount(0);

  const stored = await getJson(admin, `/api/v1/alerts/${alert.id}`);
  expect(stored.state).toBe('acknowledged');
  expect(stored.acknowledge_note).toBe(note);
  expect(stored.acknowledged_by).toBe('browser-editor-arm-gov');
  expect(stored.acknowledged_at).toBeTruthy();
  await admin.dispose();
});
