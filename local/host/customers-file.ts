/**
 * The sandbox's customers from a file, for `npm start --customers` and `npm run invoke --customers`
 * alike (docs/local.md): a JSON list as local/sandbox/demo-customers.json writes it (tags with
 * their colours), or a YAML file's top-level `customers:` as rule tests write them (tags by name:
 * a rules.test.yml, or a file with only that key).
 */
import { loadCaseCustomers, sandboxCustomer } from '../rule-tests/cases';
import type { SandboxCustomer } from '../sandbox/customer-store';
import { loadDemoCustomers } from '../sandbox/demo-customers';

export function loadCustomersFile(path: string): SandboxCustomer[] {
  return /\.ya?ml$/i.test(path) ? loadCaseCustomers(path).map(sandboxCustomer) : loadDemoCustomers(path);
}
