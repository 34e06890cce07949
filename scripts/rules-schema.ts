/** `npm run rules-schema`: writes rules.schema.json, for editors, from rules.yml's one definition (lib/rules/shape.ts). */
import { writeFileSync } from 'node:fs';
import { rulesSchema } from '../lib/rules/shape';

writeFileSync('rules.schema.json', `${JSON.stringify(rulesSchema(), null, 2)}\n`);
console.log('Wrote rules.schema.json');
