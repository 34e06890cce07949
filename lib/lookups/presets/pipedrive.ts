/**
 * pipedrive-person: Pipedrive API v2 GET /api/v2/persons/{id} ("Get details of a person"), API
 * token in the `x-api-token` header. A person carries `emails: [{value, primary, label}]`: the
 * primary one is the customer, else the first that is not blank. Errors come as
 * `{"success":false,"error":"…"}`. api.pipedrive.com serves every company (the token says which);
 * a company domain (https://<company>.pipedrive.com) goes in baseUrl.
 */
import { toRefs } from '../refs';
import { isRecord } from '../../json';
import type { Preset } from './preset';

const hasValue = (email: Record<string, unknown>) => typeof email.value === 'string' && email.value.trim() !== '';

export const pipedrivePerson: Preset = {
  vendor: 'Pipedrive',
  defaultBaseUrl: 'https://api.pipedrive.com',
  auth: { in: 'header', name: 'x-api-token' },
  async resolve(id, api) {
    const answer = await api.get(`/api/v2/persons/${encodeURIComponent(id)}`);
    if (api.notFound(answer, (body) => isRecord(body) && body.success === false)) return [];
    const body = answer.body;
    api.expect(isRecord(body) && body.success === true && isRecord(body.data), 'a Pipedrive person in `data`');
    const { emails } = (body as { data: Record<string, unknown> }).data;
    const usable = (Array.isArray(emails) ? emails : []).filter(isRecord).filter(hasValue);
    const chosen = usable.find((email) => email.primary === true) ?? usable[0];
    return toRefs('email', chosen?.value);
  },
};
