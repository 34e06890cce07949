/**
 * HubSpot CRM, private-app token as Bearer; errors come as `{"status":"error","message",…,"category"}`.
 *
 * hubspot-contact: GET /crm/v3/objects/contacts/{id}?properties=email -> `properties.email`.
 * hubspot-deal-contacts: the deal's contacts through the v4 associations list
 * (GET /crm/v4/objects/deals/{id}/associations/contacts, paged by `paging.next.after`), then their
 * emails in one batch read (POST /crm/v3/objects/contacts/batch/read, 100 ids a call; 207 when some
 * are gone). Contacts without an email are skipped; a deal with more contacts than MAX_REFS is refused.
 * Shapes as HubSpot's own @hubspot/api-client types them: a contact (SimplePublicObject) has a
 * string `id` and `properties` whose values are strings or null; an associations page
 * (CollectionResponseMultiAssociatedObjectWithLabelForwardPaging) has `results` of `{toObjectId}`
 * and an optional `paging.next.after` string.
 */
import { BadEventError } from '../../errors';
import { MAX_REFS, toRefs, type DirectRef } from '../refs';
import { isRecord } from '../../json';
import { isStringOrNull, listOf, type Preset, type PresetApi } from './preset';

type Contact = { id: string; properties: Record<string, unknown> };
type Association = { toObjectId: string | number };
type AssociationsPage = { results: Association[]; paging?: { next?: { after: string } } };

const isContact = (value: unknown): value is Contact =>
  isRecord(value) && typeof value.id === 'string' && isRecord(value.properties);
/** A toObjectId is a string as the docs type it; the API has been seen sending numbers. */
const isAssociation = (result: unknown): result is Association =>
  isRecord(result) &&
  ((typeof result.toObjectId === 'string' && result.toObjectId !== '') ||
    (typeof result.toObjectId === 'number' && Number.isSafeInteger(result.toObjectId)));
const isAssociationsPage = (body: unknown): body is AssociationsPage =>
  isRecord(body) &&
  listOf(isAssociation)(body.results) &&
  (body.paging === undefined ||
    (isRecord(body.paging) &&
      (body.paging.next === undefined || (isRecord(body.paging.next) && typeof body.paging.next.after === 'string'))));
const isBatchAnswer = (body: unknown): body is { results: Contact[] } =>
  isRecord(body) && listOf(isContact)(body.results);

/** The contact's email property: a string, or null (or left out) when it has none. */
const emailOf = (contact: Contact, api: PresetApi) =>
  api.read(contact.properties.email ?? null, isStringOrNull, 'a HubSpot contact whose `email` is a string or null');

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
    const contact = api.read(answer.body, isContact, 'a HubSpot contact with `id` and `properties`');
    return toRefs('email', emailOf(contact, api));
  },
};

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
    const { results, paging } = api.read(
      answer.body,
      isAssociationsPage,
      'a HubSpot associations page: `results` of {toObjectId}, `paging.next.after` a string',
    );
    for (const { toObjectId } of results) ids.add(String(toObjectId));
    if (ids.size > MAX_REFS) break;
    const next = paging?.next?.after;
    if (next === undefined || next === '') return [...ids];
    after = next;
  }
  throw new BadEventError(
    'lookup_too_many',
    `HubSpot deal has more than ${MAX_REFS} associated contacts; refusing to change them all`,
  );
}

async function contactEmails(ids: string[], api: PresetApi): Promise<DirectRef[]> {
  const emails: (string | null)[] = [];
  for (let start = 0; start < ids.length; start += batchSize) {
    const inputs = ids.slice(start, start + batchSize).map((id) => ({ id }));
    const answer = await api.post('/crm/v3/objects/contacts/batch/read', {
      inputs,
      properties: ['email'],
      propertiesWithHistory: [],
    });
    if (api.notFound(answer, isHubSpotError)) continue;
    const { results } = api.read(answer.body, isBatchAnswer, 'a HubSpot batch answer: `results` of contacts');
    for (const contact of results) emails.push(emailOf(contact, api));
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
