/**
 * JMESPath as rules.yml uses it: Powertools' implementation plus string helpers that payloads
 * need before a HelpCrunch search, which compares exactly (`lower(email)`, `trim(id)`).
 */
import { search } from '@aws-lambda-powertools/jmespath';
import { Functions } from '@aws-lambda-powertools/jmespath/functions';

/** Powertools applies argument checks through a decorator; applied by hand here (no decorator syntax). */
function withSignature(target: Functions, name: string, argumentsSpecs: string[][]): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, name)!;
  const decorate = Functions.signature({ argumentsSpecs }) as (
    target: Functions,
    name: string,
    descriptor: PropertyDescriptor,
  ) => PropertyDescriptor;
  Object.defineProperty(target, name, decorate(target, name, descriptor));
}

class RuleFunctions extends Functions {
  /**
   * Powertools builds a TreeInterpreter per search, and each one introspects its functions anew
   * (walking the prototype chain into a Set): once per instance is enough, and per event it was
   * the largest cost of matching a rule. (Recursive calls on the prototypes have no `methods`.)
   */
  override introspectMethods(scope?: Functions): Set<string> {
    if (this.methods?.size > 0) return this.methods;
    return super.introspectMethods(scope);
  }

  funcLower(value: string): string {
    return value.toLowerCase();
  }

  funcUpper(value: string): string {
    return value.toUpperCase();
  }

  funcTrim(value: string): string {
    return value.trim();
  }
}

for (const name of ['funcLower', 'funcUpper', 'funcTrim'] as const)
  withSignature(RuleFunctions.prototype, name, [['string']]);

const customFunctions = new RuleFunctions();

/** Names of the functions rules.yml may call beyond the JMESPath specification's. */
export const CUSTOM_FUNCTIONS = ['lower', 'upper', 'trim'] as const;

/** Evaluates `expression` against `data`; throws Powertools' JMESPathError family on bad input. */
export function evaluate(expression: string, data: unknown): unknown {
  return search(expression, data as Parameters<typeof search>[1], { customFunctions });
}
