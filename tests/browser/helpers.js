// Shared pieces of the browser specs: the tokens scripts/browser_tests.sh created, the
// HTTP API as each of them, signing in, and the screenshots every test takes of the
// pages it visits (360×800 and 1280×800, into target/screenshots/<backend>/).
const fs = require('node:fs');
const path = require('node:path');
const { expect, request } = require('@playwright/test');

const BASE_URL = process.env.BASE_URL;
const BACKEND = process.env.AIDFLOW_BACKEND || 'sqlite';
const SCREENSHOT_DIR =
  process.env.SCREENSHOT_DIR || path.resolve(__dirname, '../../target/screenshots', BACKEND);

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite with scripts/browser_tests.sh`);
  return v;
}

const tokens = {
  get admin() {
    return required('AIDFLOW_ADMIN_TOKEN');
  },
  get editor() {
    return required('AIDFLOW_EDITOR_TOKEN');
  },
  get viewer() {
    return required('AIDFLOW_VIEWER_TOKEN');
  },
};

// The demo's convoy of 26 July 2023: 19 trucks, 360 t of food, held at KORNIDZOR; its
// organization (arm-gov) is the editor token's.
const HELD_REFERENCE = 'AM-2023-07-26';
const EDITOR_ORGANIZATION = 'arm-gov';

/** An API client that sends `Authorization: Bearer <token>`. */
async function api(token) {
  return request.newContext({
    baseURL: BASE_URL,
    extraHTTPHeaders: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    timeout: 10_000,
  });
}

/** GET a JSON document through the API; fails the test on any status but 200. */
async function getJson(ctx, url) {
  const res = await ctx.get(url);
  expect(res.status(), `GET ${url}: ${await res.text()}`).toBe(200);
  return res.json();
}

let heldConvoyId;
/** The id of the demo's held convoy AM-2023-07-26, looked up through the API. */
async function heldConvoy() {
  if (heldConvoyId) return heldConvoyId;
  const ctx = await api(tokens.admin);
  try {
    const page = await getJson(ctx, '/api/v1/convoys?limit=500');
    const c = page.items.find((x) => x.reference === HELD_REFERENCE);
    expect(c, `${HELD_REFERENCE} is among the demo's convoys`).toBeTruthy();
    heldConvoyId = c.id;
    return c.id;
  } finally {
    await ctx.dispose();
  }
}

/** Signs in on /sign-in with a token and waits for the overview at `/`. */
async function signIn(page, token) {
  await page.goto('/sign-in');
  await page.locator('#token').fill(token);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/', { timeout: 15_000 }),
    page.locator('form:has(#token) [type="submit"]').first().click(),
  ]);
}

function slug(s) {
  return s
    .toLowerCase()
    .replace(/@[a-z0-9-]+/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
}

const SIZES = [
  { width: 360, height: 800 },
  { width: 1280, height: 800 },
];

/**
 * Screenshots of the page as it is now, at 360×800 and 1280×800 (full page), named
 * <spec>--<name>--<width>x<height>.png (names are unique within a spec file); the
 * viewport is put back afterwards.
 */
async function snap(page, testInfo, name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const spec = slug(path.basename(testInfo.file).replace(/\.spec\.js$/, ''));
  const before = page.viewportSize() || SIZES[1];
  const files = [];
  for (const size of SIZES) {
    await page.setViewportSize(size);
    // Let the layout settle at the new width before the picture.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const file = path.join(SCREENSHOT_DIR, `${spec}--${slug(name)}--${size.width}x${size.height}.png`);
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled', timeout: 15_000 });
    files.push(file);
  }
  await page.setViewportSize(before);
  return files;
}

/** The CSRF token a signed-in page carries in <meta name="csrf-token">. */
async function csrfToken(page) {
  const v = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  expect(v, 'the page has <meta name="csrf-token" content="…">').toBeTruthy();
  return v;
}

module.exports = {
  BASE_URL,
  BACKEND,
  SCREENSHOT_DIR,
  tokens,
  HELD_REFERENCE,
  EDITOR_ORGANIZATION,
  api,
  getJson,
  heldConvoy,
  signIn,
  snap,
  csrfToken,
};
