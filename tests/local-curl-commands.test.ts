/**
 * The banner's curl commands, run by /bin/sh against a capturing server: what they send verifies
 * with the scheme's own check. Schemes that sign a timestamp sign when the command runs, so a
 * command pasted long after it was printed still verifies.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook } from '../lib/webhook-auth';
import { registeredSchemes } from '../lib/webhook-auth/registry';
import { webhookCurl } from '../local/host/curl-commands';
import { demoSigningSecret, type SecretVerifyConfig } from '../local/host/webhook-signing';
import { exampleConfig } from './support/webhook-auth';

const run = promisify(execFile);
const hasShellTools = ['/bin/sh', '/usr/bin/curl', '/usr/bin/openssl'].every((tool) => existsSync(tool));
if (!hasShellTools) console.warn('[local-curl-commands] curl or openssl missing: skipping');

/** Every scheme whose signature covers the current time, so its command signs when it runs. */
const signedAtRunTime = registeredSchemes()
  .filter((scheme) => scheme.signInShell)
  .map((scheme) => exampleConfig(scheme) as SecretVerifyConfig);

const body = JSON.stringify({
  type: 'customer.subscription.deleted',
  data: { object: { customer: "cus_O'Brien $HOME %s" } },
});

describe.skipIf(!hasShellTools)('webhookCurl', () => {
  let server: Server;
  let hostUrl: string;
  const received: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      received.push({ url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hostUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each<SecretVerifyConfig>([
    ...signedAtRunTime,
    { scheme: 'hmac', algorithm: 'sha256', header: 'X-Signature', prefix: 'sha256=', encoding: 'hex', secretId: 'h' },
    // The secret in the URL's query (Mailchimp).
    { scheme: 'token', query: 'key', secretId: 'helpcrunch-untag/mailchimp-webhook' },
  ])('$scheme: what the command sends verifies, the body exactly as printed', async (verify) => {
    const secret = demoSigningSecret(verify);
    const command = webhookCurl(hostUrl, 'src', body, { verify, secret });
    received.length = 0;

    await run('/bin/sh', ['-c', command]);

    const [request] = received;
    expect(request!.body).toBe(body);
    const headers = Object.fromEntries(Object.entries(request!.headers).map(([name, value]) => [name, String(value)]));
    // HubSpot signs the URL it calls, which the function rebuilds as https on the host it was sent to.
    const url = `https://${new URL(hostUrl).host}/webhooks/src`;
    const query = new URL(request!.url, hostUrl).search.slice(1);
    expect(() =>
      verifyWebhook(verify, { method: 'POST', url, query, headers, rawBody: Buffer.from(request!.body) }, secret),
    ).not.toThrow();
    // Stripe's own verifier agrees.
    if (verify.scheme === 'stripe')
      expect(Stripe.webhooks.constructEvent(request!.body, headers['stripe-signature']!, secret).type).toBe(
        'customer.subscription.deleted',
      );
  });

  it.each(signedAtRunTime)(
    '$scheme: the command carries no signature of its own, only one made when it runs',
    (verify) => {
      const command = webhookCurl(hostUrl, 'src', body, { verify, secret: demoSigningSecret(verify) });

      expect(command).toContain('ts=$(date +%s)');
      expect(command).not.toMatch(/=\d{10}/);
    },
  );
});
