/** Every preset rules.yml may name (LOOKUP_PRESETS), by name. */
import type { LookupPreset } from '../../rules/types';
import { hubspotContact, hubspotDealContacts } from './hubspot';
import { paddleCustomer } from './paddle';
import { pipedrivePerson } from './pipedrive';
import type { Preset } from './preset';
import { stripeCustomer } from './stripe';

export const PRESETS: Record<LookupPreset, Preset> = {
  'stripe-customer': stripeCustomer,
  'paddle-customer': paddleCustomer,
  'pipedrive-person': pipedrivePerson,
  'hubspot-contact': hubspotContact,
  'hubspot-deal-contacts': hubspotDealContacts,
};
