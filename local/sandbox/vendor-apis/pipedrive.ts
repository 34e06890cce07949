/**
 * Pipedrive API v2 "Get details of a person", GET /api/v2/persons/:id: `{success: true, data: person}`
 * with the v2 person fields (`emails: [{value, primary, label}]`, `is_deleted`, RFC 3339 times).
 * The token comes in the `x-api-token` header (or the `api_token` query parameter). Errors follow
 * Pipedrive's documented error schema `{success: false, error, error_info, data, additional_data}`;
 * an unauthorized request answers 401.
 */
import type { PipedrivePersonRecord } from './records';
import { segmentsAfter, type VendorReply, type VendorRequest } from './vendor';

const errorInfo = 'Please check developers.pipedrive.com for more information about Pipedrive API.';

export const PIPEDRIVE_ERRORS = {
  unauthorized: {
    status: 401,
    body: { success: false, error: 'unauthorized access', errorCode: 401, error_info: errorInfo },
  },
  personNotFound: {
    status: 404,
    body: { success: false, error: 'Person not found', error_info: errorInfo, data: null, additional_data: null },
  },
  invalidId: {
    status: 400,
    body: { success: false, error: 'id must be an integer', error_info: errorInfo, data: null, additional_data: null },
  },
  routeNotFound: {
    status: 404,
    body: { success: false, error: 'Unknown method .', error_info: errorInfo, data: null, additional_data: null },
  },
} satisfies Record<string, VendorReply>;

export function pipedrivePersonObject(record: PipedrivePersonRecord): Record<string, unknown> {
  const [first_name, ...rest] = record.name.split(' ');
  return {
    id: record.id,
    name: record.name,
    first_name,
    last_name: rest.join(' ') || null,
    owner_id: 1,
    org_id: null,
    add_time: '2024-01-15T10:30:00Z',
    update_time: '2024-02-01T08:00:00Z',
    emails: record.emails,
    phones: [],
    is_deleted: false,
    visible_to: 3,
    label_ids: [],
    picture_id: null,
  };
}

export function pipedriveRoute(request: VendorRequest, token: string, persons: PipedrivePersonRecord[]): VendorReply {
  const presented = request.headers['x-api-token'] ?? request.url.searchParams.get('api_token');
  if (presented !== token) return PIPEDRIVE_ERRORS.unauthorized;
  const segments = segmentsAfter(request.url, '/api/v2/persons/');
  if (request.method !== 'GET' || segments?.length !== 1) return PIPEDRIVE_ERRORS.routeNotFound;
  if (!/^[1-9]\d{0,15}$/.test(segments[0]!)) return PIPEDRIVE_ERRORS.invalidId;
  const person = persons.find((record) => record.id === Number(segments[0]));
  return person
    ? { status: 200, body: { success: true, data: pipedrivePersonObject(person) } }
    : PIPEDRIVE_ERRORS.personNotFound;
}
