/** Why rules did or did not match a payload, as `npm run invoke -- --explain` prints it. */
import type { Explanation, RuleVerdict } from '../../lib/rules/match';

const show = (value: unknown) => (value === undefined ? 'nothing' : JSON.stringify(value));

/** The per-rule reasons, one line each. */
export function explanationText(explanations: Explanation[]): string {
  return explanations
    .map((explanation, index) => {
      const header = `Explain${explanations.length > 1 ? ` payload ${index + 1}` : ''}: source ${explanation.source}, event type ${show(explanation.eventType ?? undefined)}`;
      const lines = explanation.rules.length === 0 ? ['  no rule has this source'] : explanation.rules.map(verdictLine);
      return [header, ...lines].join('\n');
    })
    .join('\n')
    .concat('\n');
}

/** One rule's verdict on one payload (the backfill plan shows the nearest rule's for rows no rule matched). */
export function verdictLine(verdict: RuleVerdict): string {
  const parts: string[] = [];
  if (verdict.eventType)
    parts.push(`event type ${verdict.eventType.ok ? 'is' : 'is not'} one of ${verdict.eventType.accepted.join(', ')}`);
  if (verdict.when)
    parts.push(
      `when ${verdict.when.expression} → ${show(verdict.when.value)}${verdict.when.ok ? '' : ' (not truthy)'}`,
    );
  if (verdict.customer)
    parts.push(
      `customer.${verdict.customer.by === 'lookup' ? 'from' : verdict.customer.by} ${verdict.customer.expression} → ${show(verdict.customer.value)}`,
    );
  if (verdict.error) parts.push(`refused: ${verdict.error}`);
  return `  ${verdict.matched ? '✓ matches' : '✗ no match'}  ${verdict.rule}: ${parts.join('; ') || 'applies to every event of its source'}`;
}
