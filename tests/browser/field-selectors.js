// The selectors the offline field app promises in the comment block at the top of
// src/web/templates/field.html ("Stable selectors (the browser tests rely on them)"). Kept
// in one place so the specs follow that contract and nothing else.
const { expect } = require('@playwright/test');

const S = {
  app: '#field-app',
  online: '#online-state', // text "online" / "offline", data-online="true|false"
  status: '#field-status',
  signin: '#signin',
  viewerNote: '#viewer-note',
  writer: '#writer', // everything that writes; absent for viewers
  record: '#record-event',
  filter: '#convoy-filter',
  picker: '#convoy-picker',
  convoy: (id) => `#convoy-picker button[data-convoy-id="${id}"]`,
  form: '#event-form',
  chosen: '#chosen-convoy',
  kind: (k) => `#event-kind [data-kind="${k}"]`,
  checkpoint: '#event-checkpoint',
  time: '#event-time',
  note: '#event-note',
  queue: '#queue',
  entries: '#queue li[data-entry-id]',
  entry: (id) => `#queue li[data-entry-id="${id}"]`,
  sendNow: '#send-now',
};

/** The app is up: for a writer the convoy list has loaded; for a viewer the note shows. */
S.ready = async function ready(page) {
  await expect(page.locator(S.app)).toBeVisible();
  if ((await page.locator(S.writer).count()) === 0) {
    await expect(page.locator(S.viewerNote)).toBeVisible();
    return;
  }
  await expect(page.locator(`${S.picker} button[data-convoy-id], #picker-empty:visible`).first()).toBeVisible({
    timeout: 15_000,
  });
};

/**
 * Logs one event through the form, as a person would: pick the convoy, tap the kind,
 * choose the checkpoint (and the time, when given), Record. Returns nothing; the entry
 * appears in #queue.
 */
S.logEvent = async function logEvent(page, { convoyId, reference, kind, checkpoint, time, note }) {
  const button = page.locator(S.convoy(convoyId));
  await expect(button).toBeVisible();
  await button.click();
  await expect(page.locator(S.form)).toBeVisible();
  await expect(page.locator(S.chosen)).toContainText(reference);
  await page.locator(S.kind(kind)).click();
  await expect(page.locator(S.kind(kind))).toHaveAttribute('aria-pressed', 'true');
  if (checkpoint) await page.locator(S.checkpoint).selectOption(checkpoint);
  if (time) await page.locator(S.time).fill(time);
  if (note) await page.locator(S.note).fill(note);
  await page.locator(S.record).click();
  // After Record the form closes and the picker shows again.
  await expect(page.locator(S.form)).toBeHidden();
  await expect(page.locator(S.picker)).toBeVisible();
};

/** The client ids of the entries in #queue, in the order shown. */
S.entryIds = async function entryIds(page) {
  return page.locator(S.entries).evaluateAll((lis) => lis.map((li) => li.getAttribute('data-entry-id')));
};

module.exports = S;
