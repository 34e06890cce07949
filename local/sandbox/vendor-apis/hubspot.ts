/**
 * HubSpot CRM with a private-app token as Bearer:
 *   GET  /crm/v3/objects/contacts/:id?properties=…        a contact `{id, properties, createdAt, updatedAt, archived}`
 *   GET  /crm/v4/objects/deals/:id/associations/contacts  `{results: [{toObjectId, associationTypes}], paging?}`;
 *                                                         `limit` (default 500) and the opaque cursor `after`
 *   POST /crm/v3/objects/contacts/batch/read              `{status, results, startedAt, completedAt}`; 207 with
 *                                                         `errors` and `numErrors` when some ids are unknown
 * Shapes from HubSpot's API reference examples; `toObjectId` is a string as the reference types it.
 * Errors are `{status: "error", message, correlationId, category}` (HubSpot "API error responses");
 * an unknown deal answers 404 OBJECT_NOT_FOUND as an unknown contact does.
 */
import { randomUUID } from 'node:crypto';
import type { HubSpotContactRecord, HubSpotDealRecord } from './records';
import { bearerToken, invalidJson, segmentsAfter, type VendorReply, type VendorRequest } from './vendor';

function hubSpotError(
  status: number,
  category: string,
  message: string,
  extra: Record<string, unknown> = {},
): VendorReply {
  return { status, body: { status: 'error', message, correlationId: randomUUID(), category, ...extra } };
}

export const HUBSPOT_ERRORS = {
  unauthorized: () =>
    hubSpotError(
      401,
      'INVALID_AUTHENTICATION',
      'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
    ),
  notFound: () => hubSpotError(404, 'OBJECT_NOT_FOUND', 'resource not found'),
  invalidInput: (message: string) => hubSpotError(400, 'VALIDATION_ERROR', message),
};

const timestamps = { createdAt: '2019-10-30T03:30:17.883Z', updatedAt: '2019-12-07T16:50:06.678Z' };
const maxBatchInputs = 100;

/** The contact with HubSpot's default properties plus the requested ones (a missing value is null). */
export function hubSpotContactObject(record: HubSpotContactRecord, properties: string[]): Record<string, unknown> {
  const values: Record<string, string | null> = { email: record.email };
  const shown: Record<string, string | null> = {
    createdate: timestamps.createdAt,
    hs_object_id: record.id,
    lastmodifieddate: timestamps.updatedAt,
  };
  for (const name of properties) shown[name] = values[name] ?? shown[name] ?? null;
  return { id: record.id, properties: shown, ...timestamps, archived: false };
}

function associations(request: VendorRequest, deal: HubSpotDealRecord): VendorReply {
  const limit = Number(request.url.searchParams.get('limit') ?? 500);
  const offset = Number(request.url.searchParams.get('after') ?? 0);
  if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0)
    return HUBSPOT_ERRORS.invalidInput('Invalid paging');
  const page = deal.contactIds.slice(offset, offset + limit).map((id) => ({
    toObjectId: id,
    associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 3, label: null }],
  }));
  const after = offset + limit < deal.contactIds.length ? String(offset + limit) : undefined;
  return {
    status: 200,
    body: { results: page, ...(after && { paging: { next: { after, link: `?after=${after}` } } }) },
  };
}

function batchRead(body: unknown, contacts: HubSpotContactRecord[]): VendorReply {
  const { inputs, properties } = (body ?? {}) as { inputs?: unknown; properties?: unknown };
  if (!Array.isArray(inputs) || inputs.length > maxBatchInputs || !Array.isArray(properties)) {
    return HUBSPOT_ERRORS.invalidInput(
      `inputs must be a list of at most ${maxBatchInputs} {id}, properties a list of names`,
    );
  }
  const ids = inputs.map((input) => String((input as { id?: unknown } | null)?.id ?? ''));
  const found = contacts.filter((contact) => ids.includes(contact.id));
  const missing = ids.filter((id) => !found.some((contact) => contact.id === id));
  const now = new Date().toISOString();
  const answer = {
    status: 'COMPLETE',
    results: found.map((contact) => hubSpotContactObject(contact, properties as string[])),
    startedAt: now,
    completedAt: now,
  };
  if (missing.length === 0) return { status: 200, body: answer };
  // A StandardError as the batch read reference lists one: `errors` and `links` are required fields.
  const error = {
    status: 'error',
    category: 'OBJECT_NOT_FOUND',
    message: 'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
    context: { ids: missing },
    errors: [],
    links: {},
  };
  return { status: 207, body: { ...answer, numErrors: 1, errors: [error] } };
}

export function hubSpotRoute(
  request: VendorRequest,
  token: string,
  contacts: HubSpotContactRecord[],
  deals: HubSpotDealRecord[],
): VendorReply {
  if (bearerToken(request.headers) !== token) return HUBSPOT_ERRORS.unauthorized();
  const { method, url } = request;
  if (method === 'POST' && url.pathname === '/crm/v3/objects/contacts/batch/read') {
    return request.body === invalidJson
      ? HUBSPOT_ERRORS.invalidInput('Invalid JSON')
      : batchRead(request.body, contacts);
  }
  const contact = segmentsAfter(url, '/crm/v3/objects/contacts/');
  if (method === 'GET' && contact?.length === 1) {
    const record = contacts.find((candidate) => candidate.id === contact[0]);
    const properties = url.searchParams.getAll('properties').flatMap((value) => value.split(','));
    return record ? { status: 200, body: hubSpotContactObject(record, properties) } : HUBSPOT_ERRORS.notFound();
  }
  const deal = segmentsAfter(url, '/crm/v4/objects/deals/');
  if (method === 'GET' && deal?.length === 3 && deal[1] === 'associations' && deal[2] === 'contacts') {
    const record = deals.find((candidate) => candidate.id === deal[0]);
    return record ? associations(request, record) : HUBSPOT_ERRORS.notFound();
  }
  return HUBSPOT_ERRORS.notFound();
}
