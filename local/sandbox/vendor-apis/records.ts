/**
 * The records the vendor stand-ins serve, kept minimal: each vendor module renders them as the
 * vendor's documented objects. The defaults reuse demo customers' emails (demo-customers.json), so a
 * lookup in `npm start` / `npm run demo` finds a customer the HelpCrunch sandbox knows.
 */
export interface StripeCustomerRecord {
  id: string;
  email: string | null;
  name: string | null;
  /** Stripe keeps answering for a deleted customer, with `{id, object, deleted: true}` only. */
  deleted?: boolean;
}

export interface PaddleCustomerRecord {
  id: string;
  email: string;
  name: string | null;
  status: 'active' | 'archived';
}

export interface PipedrivePersonRecord {
  id: number;
  name: string;
  emails: { value: string; primary: boolean; label: string }[];
}

export interface HubSpotContactRecord {
  id: string;
  email: string | null;
}

export interface HubSpotDealRecord {
  id: string;
  contactIds: string[];
}

export interface VendorRecords {
  stripeCustomers: StripeCustomerRecord[];
  paddleCustomers: PaddleCustomerRecord[];
  pipedrivePersons: PipedrivePersonRecord[];
  hubspotContacts: HubSpotContactRecord[];
  hubspotDeals: HubSpotDealRecord[];
}

export const DEFAULT_VENDOR_RECORDS: VendorRecords = {
  stripeCustomers: [
    // Demo customer 1002 (tag Subscriber): a customer.subscription.deleted for cus_Qh7GraceHopper finds her by email.
    { id: 'cus_Qh7GraceHopper', email: 'grace@example.com', name: 'Grace Hopper' },
    { id: 'cus_NffrFeUfNV2Hib', email: 'jennyrosen@example.com', name: 'Jenny Rosen' },
    { id: 'cus_NoEmailCustomer', email: null, name: 'No Email' },
    { id: 'cus_DeletedCustomr', email: 'deleted@example.com', name: 'Deleted', deleted: true },
  ],
  paddleCustomers: [
    { id: 'ctm_01hv6y1jedq4p1n0yqn5ba3ky4', email: 'alan@example.com', name: 'Alan Turing', status: 'active' },
    { id: 'ctm_01hrffh7gvp29kc7xahm8wddwa', email: 'sam@example.com', name: 'Sam Miller', status: 'archived' },
  ],
  pipedrivePersons: [
    {
      id: 101,
      name: 'Ada Lovelace',
      emails: [
        { value: 'ada.lovelace@analytical.example', primary: false, label: 'work' },
        { value: 'ada@example.com', primary: true, label: 'home' },
      ],
    },
    { id: 102, name: 'No Email', emails: [{ value: '', primary: true, label: '' }] },
  ],
  hubspotContacts: [
    { id: '501', email: 'katherine@example.com' },
    { id: '502', email: null },
    { id: '503', email: 'linus@example.com' },
  ],
  hubspotDeals: [
    { id: '9001', contactIds: ['501', '502'] },
    { id: '9002', contactIds: [] },
  ],
};
