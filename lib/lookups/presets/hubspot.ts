/**
 * HubSpot CRM, private-app token as Bearer; errors come as `{"status":"error","message",…,"category"}`.
 *
 * hubspot-contact: GET /crm/v3/objects/contacts/{id}?properties=email -> `properties.email`.
 * hubspot-deal-contacts: the deal's contacts through the v4 associations list
 * (GET /crm/v4/objects/deals/{id}/associations/contacts, paged by `paging.next.after`), then their
 * emails in one batch read (POST /crm/v3/objects/contacts/batch/read, 100 ids a call; 207 when some
 * are gone). Contacts without an email are skipped; a deal with more contacts than MAX_REFS is refused.
 */
import { BadEventError } from '../../errors';
import { MAX_REFS, toRefs, type DirectRef } from '../refs';
import { isRecord } from '../../json';
import type { Preset, PresetApi } from './preset';

const isHubSpotError = (body: unknown) => isRecord(body) && body.status === 'error';
const pageSize = 100;
// Pages may come back shorter than asked; this many is past any deal MAX_REFS allows.
const maxPages = 10;
const batchSize = 100;
const base = { vendor: 'HubSpot', defaultBaseUrl: 'https://api.hubapi.com', auth: { in: 'bearer' } } as const;

export const hubspotContact: Preset = {
  ...base,
  async resolve(id, api) {
    const answer = await api.get(`/crm/v3/objects/contacts/${encodeURIComponent(id)}?properties=email`);
    if (api.notFound(answer, isHubSpotError)) return [];
    const contact = answer.body;
    api.expect(isRecord(contact) && isRecord(contact.properties), 'a HubSpot contact with `properties`');
    return toRefs('email', (contact as { properties: Record<string, unknown> }).properties.email);
  },
};

/** A toObjectId as a string: the docs type it as one, the API has been seen sending numbers. */
function objectId(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
}

/** The deal's contact ids; undefined when HubSpot does not know the deal. */
async function associatedContacts(dealId: string, api: PresetApi): Promise<string[] | undefined> {
  const ids = new Set<string>();
  let after: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const cursor = after === undefined ? '' : `&after=${encodeURIComponent(after)}`;
    const answer = await api.get(
      `/crm/v4/objects/deals/${encodeURIComponent(dealId)}/associations/contacts?limit=${pageSize}${cursor}`,
    );
    if (api.notFound(answer, isHubSpotError)) return undefined;
    const body = answer.body;
    api.expect(isRecord(body) && Array.isArray(body.results), 'a HubSpot associations list in `results`');
    for (const result of (body as { results: unknown[] }).results) {
      const id = isRecord(result) ? objectId(result.toObjectId) : undefined;
      if (id !== undefined) ids.add(id);
    }
    if (ids.size > MAX_REFS) break;
    const next = (body as { paging?: { next?: { after?: unknown } } }).paging?.next?.after;
    if (typeof next !== 'string' || next === '') return [...ids];
    after = next;
  }
  throw new BadEventError(
    'lookup_too_many',
    `HubSpot deal has more than ${MAX_REFS} associated contacts; refusing to change them all`,
  );
}

async function contactEmails(ids: string[], api: PresetApi): Promise<DirectRef[]> {
  const emails: unknown[] = [];
  for (let start = 0; start < ids.length; start += batchSize) {
    const inputs = ids.slice(start, start + batchSize).map((id) => ({ id }));
    const answer = await api.post('/crm/v3/objects/contacts/batch/read', {
      inputs,
      properties: ['email'],
      propertiesWithHistory: [],
    });
    if (api.notFound(answer, isHubSpotError)) continue;
    const body = answer.body;
    api.expect(isRecord(body) && Array.isArray(body.results), 'a HubSpot batch answer in `results`');
    for (const contact of (body as { results: unknown[] }).results) {
      if (isRecord(contact) && isRecord(contact.properties)) emails.push(contact.properties.email);
    }
  }
  return toRefs('email', emails);
}

export const hubspotDealContacts: Preset = {
  ...base,
  async resolve(id, api) {
    const contacts = await associatedContacts(id, api);
    return contacts && contacts.length > 0 ? contactEmails(contacts, api) : [];
  },
};
