/** `npm run rules-schema`: writes rules.schema.json from the validator's tables (tooling/rules/schema.ts). */
import { writeFileSync } from 'node:fs';
import { rulesJsonSchema } from '../tooling/rules/schema';

writeFileSync('rules.schema.json', `${JSON.stringify(rulesJsonSchema(), null, 2)}\n`);
console.log('Wrote rules.schema.json');
