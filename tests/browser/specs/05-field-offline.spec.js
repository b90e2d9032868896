// 5. Offline: the field app queues three events without a connection, opens again from
// its service worker after a reload, and sends them once the connection is back; the
// server stores each client id exactly once.
const { test, expect } = require('@playwright/test');
const { api, getJson, tokens, signIn, snap, BACKEND, EDITOR_ORGANIZATION } = require('../helpers');
const field = require('../field-selectors');

/** A datetime-local value ("YYYY-MM-DDTHH:MM") `minutesAgo` before now, in the page's zone. */
async function localTime(page, minutesAgo) {
  return page.evaluate((m) => {
    const d = new Date(Date.now() - m * 60_000);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  }, minutesAgo);
}

test('three events queued offline survive a reload and are stored once each', async ({ context, page }, testInfo) => {
  test.setTimeout(120_000);
  // A convoy of the editor's organization that left Goris an hour ago.
  const admin = await api(tokens.admin);
  const reference = `BT-${BACKEND}-${Date.now().toString(36)}`.toUpperCase();
  const now = Date.now();
  const created = await admin.post('/api/v1/convoys', {
    data: {
      organization: EDITOR_ORGANIZATION,
      reference,
      route: 'lachin',
      planned_departure: new Date(now - 3_600_000).toISOString(),
      expected_arrival: new Date(now + 8 * 3_600_000).toISOString(),
      trucks: 2,
      manifest: [{ commodity: 'food', tonnes: '30' }],
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const convoyId = (await created.json()).id;

  await signIn(page, tokens.editor);
  await page.goto('/field/');
  await field.ready(page);
  await expect(page.locator(field.online)).toHaveAttribute('data-online', 'true');
  await expect(page.locator(field.convoy(convoyId))).toBeVisible();
  // The service worker is installed and controls the page before the connection goes.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve, reject) => {
        navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
        setTimeout(() => reject(new Error('no service worker took control of /field/ within 10 s')), 10_000);
      });
    }
  });
  await snap(page, testInfo, 'field-online');

  await context.setOffline(true);
  await expect(page.locator(field.online)).toHaveAttribute('data-online', 'false');
  await expect(page.locator(field.online)).toHaveText('offline');

  const plan = [
    { kind: 'arrived', minutesAgo: 30 },
    { kind: 'held', minutesAgo: 20 },
    { kind: 'cleared', minutesAgo: 10 },
  ];
  for (const step of plan) {
    await field.logEvent(page, {
      convoyId,
      reference,
      kind: step.kind,
      checkpoint: 'KORNIDZOR',
      time: await localTime(page, step.minutesAgo),
      note: `offline ${step.kind} (browser test)`,
    });
  }
  await expect(page.locator(field.entries)).toHaveCount(3);
  const ids = await field.entryIds(page);
  expect(new Set(ids).size).toBe(3);
  for (const id of ids) {
    await expect(page.locator(field.entry(id))).toHaveAttribute('data-state', 'queued');
  }
  await snap(page, testInfo, 'field-offline-queued');

  // Reloaded without a connection, the app opens from its service worker with the queue.
  const reloaded = await page.reload();
  expect(reloaded, 'the reload got an answer').toBeTruthy();
  expect(reloaded.fromServiceWorker(), '/field/ was answered by the service worker').toBe(true);
  await expect(page.locator(field.app)).toBeVisible();
  await expect(page.locator(field.online)).toHaveAttribute('data-online', 'false');
  await expect(page.locator(field.entries)).toHaveCount(3);
  expect((await field.entryIds(page)).sort()).toEqual([...ids].sort());
  await snap(page, testInfo, 'field-offline-reloaded');

  // Nothing reached the server while offline.
  let stored = await getJson(admin, `/api/v1/convoys/${convoyId}/events`);
  expect(stored.filter((e) => ids.includes(e.id))).toEqual([]);

  await context.setOffline(false);
  await expect(page.locator(field.online)).toHaveAttribute('data-online', 'true');
  for (const id of ids) {
    await expect(page.locator(field.entry(id))).toHaveAttribute('data-state', 'sent', { timeout: 30_000 });
  }
  await snap(page, testInfo, 'field-back-online-sent');

  stored = await getJson(admin, `/api/v1/convoys/${convoyId}/events`);
  for (const id of ids) {
    expect(stored.filter((e) => e.id === id), `event ${id} stored exactly once`).toHaveLength(1);
  }
  const byId = new Map(stored.map((e) => [e.id, e]));
  expect(ids.map((id) => [byId.get(id).kind, byId.get(id).checkpoint]).sort()).toEqual(
    [['arrived', 'KORNIDZOR'], ['cleared', 'KORNIDZOR'], ['held', 'KORNIDZOR']],
  );
  expect(stored).toHaveLength(3);
  const convoy = await getJson(admin, `/api/v1/convoys/${convoyId}`);
  expect([convoy.status, convoy.last_checkpoint, convoy.outstanding]).toEqual(['in_transit', 'KORNIDZOR', '30.000']);
  await admin.dispose();
});
