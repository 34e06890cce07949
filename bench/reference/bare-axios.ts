/**
 * The floor for the memory figure: a handler that makes only the untag call, with plain axios
 * and nothing else (no secrets, no logging). Built like the reference, never deployed.
 */
import axios from 'axios';

export async function handler(event: { body: string }): Promise<{ statusCode: number; body: string }> {
  const { customerId, tags } = JSON.parse(event.body) as { customerId: number; tags: string[] };
  const response = await axios.delete(`${process.env.HELPCRUNCH_API_URL}/customers/${customerId}/tags`, {
    data: { tags: tags.map((name) => ({ name })) },
    headers: { Authorization: `Bearer ${process.env.BENCH_HELPCRUNCH_API_KEY}` },
  });
  return { statusCode: response.status, body: '' };
}
