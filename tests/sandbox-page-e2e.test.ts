/**
 * The sandbox page in a real browser: headless Chromium (Debian's `chromium` package, driven by
 * playwright-core) watches the page while a signed webhook goes through the local stack, and sees
 * the tag vanish and the requests appear. .ci/run installs Chromium; elsewhere a missing browser
 * skips this test with a notice.
 */
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../local/host/local-stack';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`[sandbox-page-e2e] SKIPPED: no Chromium at ${CHROMIUM}. Install it (apt-get install chromium) or set CHROMIUM_PATH.`);
}

describe.skipIf(!hasChromium)('sandbox page in headless Chromium', () => {
  let stack: LocalStack;
  let browser: Browser;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([
      startLocalStack({ env: {}, write: () => undefined }),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      }),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows a rule take effect: the tag vanishes and the requests appear, live', async () => {
    const page = await browser.newPage();
    await page.goto(stack.sandbox!.url.replace(/v1$/, ''));
    const ada = page.locator('tr[data-customer-id="1001"]');
    await ada.locator('[data-tag="Lead"]').waitFor();
    await page.locator('#connection.live').waitFor();

    const body = JSON.stringify({ status: 'lost', person: { email: 'ada@example.com' } });
    const signature = createHmac('sha256', stack.secrets['helpcrunch-untag/crm-webhook']!).update(body).digest('hex');
    const response = await fetch(`${stack.hostUrl}/webhooks/crm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': `sha256=${signature}` },
      body,
    });
    expect(response.status).toBe(200);

    await ada.locator('[data-tag="Lead"]').waitFor({ state: 'detached', timeout: 5_000 });
    expect(await ada.locator('.tags').innerText()).toBe('no tags');
    expect(await ada.getAttribute('class')).toBe('changed');
    expect(await page.locator('#requests tr').allInnerTexts()).toEqual([
      expect.stringMatching(/DELETE \/v1\/customers\/1001\/tags\s+200/),
      expect.stringMatching(/POST \/v1\/customers\/search\s+200/),
    ]);
    // Someone else's tags stay as they were.
    expect(await page.locator('tr[data-customer-id="1002"] .tag').allInnerTexts()).toEqual(['Subscriber', 'VIP']);
  });
});
