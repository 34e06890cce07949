/**
 * pipedrive-person: Pipedrive API v2 GET /api/v2/persons/{id} ("Get details of a person"), API
 * token in the `x-api-token` header. A person may carry `emails: [{value, primary, label}]`
 * (`value` a string, `primary` a boolean: pipedrive/client-nodejs v2 models, Person): the primary
 * one is the customer, else the first that is not blank. Errors come as
 * `{"success":false,"error":"…"}`. api.pipedrive.com serves every company (the token says which);
 * a company domain (https://<company>.pipedrive.com) goes in baseUrl.
 */
import { toRefs } from '../refs';
import { isRecord } from '../../json';
import { listOf, type Preset } from './preset';

type PersonAnswer = { success: true; data: Record<string, unknown> };
type Email = { value?: string; primary?: boolean };

const isPersonAnswer = (body: unknown): body is PersonAnswer =>
  isRecord(body) && body.success === true && isRecord(body.data);
const isEmail = (entry: unknown): entry is Email =>
  isRecord(entry) &&
  (entry.value === undefined || typeof entry.value === 'string') &&
  (entry.primary === undefined || typeof entry.primary === 'boolean');

export const pipedrivePerson: Preset = {
  vendor: 'Pipedrive',
  defaultBaseUrl: 'https://api.pipedrive.com',
  auth: { in: 'header', name: 'x-api-token' },
  async resolve(id, api) {
    const answer = await api.get(`/api/v2/persons/${encodeURIComponent(id)}`);
    if (api.notFound(answer, (body) => isRecord(body) && body.success === false)) return [];
    const person = api.read(answer.body, isPersonAnswer, 'a Pipedrive person in `data`').data;
    const emails = api.read(
      person.emails === undefined ? [] : person.emails,
      listOf(isEmail),
      'a Pipedrive person whose `emails` are {value, primary, label} objects',
    );
    const usable = emails.filter((email) => email.value !== undefined && email.value.trim() !== '');
    const chosen = usable.find((email) => email.primary === true) ?? usable[0];
    return toRefs('email', chosen?.value);
  },
};
