// 1. Signing in with a token, signing out, and a revoked token's session.
const { test, expect } = require('@playwright/test');
const { api, tokens, signIn, snap, BASE_URL } = require('../helpers');

const SESSION = 'aidflow_session';

async function sessionCookie(context) {
  return (await context.cookies(BASE_URL)).find((c) => c.name === SESSION);
}

test('a token signs in: an HttpOnly SameSite=Strict session cookie and the overview at /', async ({ page, context }, testInfo) => {
  await page.goto('/sign-in');
  await expect(page.locator('#token')).toBeVisible();
  await snap(page, testInfo, 'sign-in');
  expect(await sessionCookie(context)).toBeUndefined();

  await signIn(page, tokens.admin);
  expect(new URL(page.url()).pathname).toBe('/');
  const cookie = await sessionCookie(context);
  expect(cookie, `a cookie ${SESSION} after signing in`).toBeTruthy();
  expect(cookie.httpOnly).toBe(true);
  expect(cookie.sameSite).toBe('Strict');
  // Served over plain HTTP on loopback: not marked Secure (secure_cookies = "auto").
  expect(cookie.secure).toBe(false);
  // The session's value is not the token.
  expect(cookie.value).not.toContain(tokens.admin);
  await expect(page.locator('form#sign-out')).toBeVisible();
  await snap(page, testInfo, 'overview-signed-in');
});

test('a wrong token is refused on the sign-in page and opens no session', async ({ page, context }, testInfo) => {
  await page.goto('/sign-in');
  await page.locator('#token').fill('afw_this-is-not-a-token');
  await page.locator('form:has(#token) [type="submit"]').first().click();
  await page.waitForLoadState('domcontentloaded');
  expect(new URL(page.url()).pathname).toBe('/sign-in');
  await expect(page.locator('#token')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('[role="alert"]')).toBeVisible();
  expect(await sessionCookie(context)).toBeUndefined();
  await snap(page, testInfo, 'sign-in-refused');
  // Without a session, a page sends the visitor to the sign-in page.
  await page.goto('/convoys');
  expect(new URL(page.url()).pathname).toBe('/sign-in');
});

test('signing out (form#sign-out) ends the session, on the server too', async ({ page, context, browser }, testInfo) => {
  await signIn(page, tokens.viewer);
  const before = await sessionCookie(context);
  expect(before).toBeTruthy();

  await Promise.all([
    page.waitForURL((u) => u.pathname === '/sign-in', { timeout: 15_000 }),
    page.locator('form#sign-out [type="submit"]').click(),
  ]);
  await snap(page, testInfo, 'signed-out');
  expect(await sessionCookie(context), 'the browser forgot the session cookie').toBeUndefined();
  await page.goto('/');
  expect(new URL(page.url()).pathname).toBe('/sign-in');

  // The old cookie, replayed by another browser, opens nothing: the session is gone.
  const other = await browser.newContext({ baseURL: BASE_URL });
  try {
    await other.addCookies([{ ...before }]);
    const replay = await other.newPage();
    await replay.goto('/');
    expect(new URL(replay.url()).pathname).toBe('/sign-in');
  } finally {
    await other.close();
  }
});

test("a revoked token's session is refused: the next page is /sign-in", async ({ page }, testInfo) => {
  const admin = await api(tokens.admin);
  try {
    const created = await admin.post('/api/v1/tokens', {
      data: { name: 'browser-revoked', role: 'viewer' },
    });
    expect(created.status(), await created.text()).toBe(201);
    const { id, token } = await created.json();
    expect(token).toMatch(/^afw_/);

    await signIn(page, token);
    await page.goto('/convoys');
    expect(new URL(page.url()).pathname).toBe('/convoys');

    const revoked = await admin.delete(`/api/v1/tokens/${id}`);
    expect(revoked.status(), await revoked.text()).toBe(200);
    expect((await revoked.json()).revoked_at).toBeTruthy();

    await page.goto('/convoys');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await snap(page, testInfo, 'revoked-session');
    // Nor does the revoked token sign in again.
    await page.locator('#token').fill(token);
    await page.locator('form:has(#token) [type="submit"]').first().click();
    await page.waitForLoadState('domcontentloaded');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
  } finally {
    await admin.dispose();
  }
});
