/**
 * The sandbox page in a real browser: headless Chromium (Debian's `chromium` package, driven by
 * playwright-core) watches the page while a signed webhook goes through the local stack in queue
 * mode, and sees the queues, the tag vanish and the requests appear. .ci/run installs Chromium;
 * elsewhere a missing browser skips this test with a notice.
 */
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../local/host/local-stack';
import { SUITE_RULES } from './support/suite-rules';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `[sandbox-page-e2e] SKIPPED: no Chromium at ${CHROMIUM}. Install it (apt-get install chromium) or set CHROMIUM_PATH.`,
  );
}

describe.skipIf(!hasChromium)('sandbox page in headless Chromium', () => {
  let stack: LocalStack;
  let browser: Browser;
  let pageRoot: string;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([
      startLocalStack({ env: {}, rulesFile: SUITE_RULES, write: () => undefined }),
      chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
    ]);
    pageRoot = stack.sandbox!.url.replace(/v1$/, '');
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows a rule take effect through the queue: the queues, the tag vanishing and the requests, live', async () => {
    const page = await browser.newPage();
    // As npm start's banner prints it.
    await page.goto(`${pageRoot}?sqs=${stack.queue!.sqs.url}`);
    const ada = page.locator('tr[data-customer-id="1001"]');
    await ada.locator('[data-tag="Lead"]').waitFor();
    await page.locator('#connection.live').waitFor();
    const jobsRow = page.locator('tr[data-queue="helpcrunch-untag-local-jobs.fifo"]');
    await jobsRow.waitFor();
    expect(await page.locator('#queue-rows tr').allInnerTexts()).toEqual([
      expect.stringMatching(/^helpcrunch-untag-local-jobs-dlq\.fifo\s+0\s+0\s+0$/),
      expect.stringMatching(/^helpcrunch-untag-local-jobs\.fifo\s+0\s+0\s+0$/),
      expect.stringMatching(/^helpcrunch-untag-local-backfill\.fifo\s+0\s+0\s+0$/),
    ]);

    const body = JSON.stringify({ status: 'lost', person: { email: 'ada@example.com' } });
    const signature = createHmac('sha256', stack.secrets['helpcrunch-untag/crm-webhook']!).update(body).digest('hex');
    const response = await fetch(`${stack.hostUrl}/webhooks/crm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': `sha256=${signature}` },
      body,
    });
    expect(response.status).toBe(202);

    await ada.locator('[data-tag="Lead"]').waitFor({ state: 'detached', timeout: 15_000 });
    expect(await ada.locator('.tags').innerText()).toBe('no tags');
    expect(await ada.getAttribute('class')).toBe('changed');
    await expect
      .poll(() => page.locator('#requests tr').allInnerTexts(), { timeout: 10_000 })
      .toEqual([
        expect.stringMatching(/DELETE \/v1\/customers\/1001\/tags\s+− Lead, Trial user\s+200/),
        expect.stringMatching(/POST \/v1\/customers\/search\s+200/),
      ]);
    // Someone else's tags stay as they were.
    expect(await page.locator('tr[data-customer-id="1002"] .tag').allInnerTexts()).toEqual(['Subscriber', 'VIP']);
    // The job is done: nothing left in the queue.
    await expect
      .poll(() => jobsRow.innerText(), { timeout: 10_000 })
      .toMatch(/^helpcrunch-untag-local-jobs\.fifo\s+0\s+0\s+0$/);
  });

  it('shows what a DELETE removes and a PUT adds next to each request', async () => {
    const page = await browser.newPage();
    await page.goto(pageRoot);
    await page.locator('#connection.live').waitFor();

    for (const [method, name] of [
      ['DELETE', 'Subscriber'],
      ['PUT', 'Churned'],
    ] as const) {
      await fetch(`${stack.sandbox!.url}/customers/1002/tags`, {
        method,
        headers: { authorization: `Bearer ${stack.sandbox!.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tags: [{ name }] }),
      });
    }

    await expect
      .poll(() => page.locator('#requests tr').allInnerTexts(), { timeout: 10_000 })
      .toEqual(
        expect.arrayContaining([
          expect.stringMatching(/PUT \/v1\/customers\/1002\/tags\s+\+ Churned\s+200/),
          expect.stringMatching(/DELETE \/v1\/customers\/1002\/tags\s+− Subscriber\s+200/),
        ]),
      );
    expect(await page.locator('#requests .change.adds').first().innerText()).toBe('+ Churned');
  });

  it('shows a dead-lettered job in the dead-letter queue’s row', async () => {
    const page = await browser.newPage();
    await page.goto(`${pageRoot}?sqs=${stack.queue!.sqs.url}`);
    const deadLetters = page.locator('tr[data-queue="helpcrunch-untag-local-jobs-dlq.fifo"]');
    await deadLetters.waitFor();

    await stack.queue!.sqs.model.sendMessage({
      QueueUrl: stack.queue!.jobsQueueUrl,
      MessageBody: 'not a job',
      MessageGroupId: 'customer-x',
      MessageDeduplicationId: 'not-a-job',
    });

    await expect
      .poll(() => deadLetters.innerText(), { timeout: 10_000 })
      .toMatch(/^helpcrunch-untag-local-jobs-dlq\.fifo\s+1\s+0\s+0$/);
    expect(await deadLetters.getAttribute('class')).toBe('dead');
  });

  it('follows only a loopback address for the queues', async () => {
    const page = await browser.newPage();
    await page.goto(`${pageRoot}?sqs=http://example.com:4020`);
    await page.locator('#connection.live').waitFor();

    expect(await page.locator('#queues').isHidden()).toBe(true);
  });
});
