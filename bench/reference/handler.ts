/**
 * The benchmark's reference: the naive way to write this function with the same packages
 * (middy + @middy/secrets-manager + axios + the AWS SDK), untuned, making the same untag call.
 * Only the benchmark builds it (esbuild defaults: bundle + minify); it is never deployed.
 */
import middy from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import axios from 'axios';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';

interface UntagRequest {
  customerId: number;
  tags: string[];
}

async function untag(
  event: APIGatewayProxyEventV2,
  context: Context & { apiKey?: { apiKey: string } },
): Promise<APIGatewayProxyResultV2> {
  const { customerId, tags } = JSON.parse(event.body ?? '{}') as UntagRequest;
  const response = await axios.delete(`${process.env.HELPCRUNCH_API_URL}/customers/${customerId}/tags`, {
    data: { tags: tags.map((name) => ({ name })) },
    headers: { Authorization: `Bearer ${context.apiKey!.apiKey}` },
  });
  return { statusCode: 200, body: JSON.stringify(response.data) };
}

export const handler = middy(untag).use(
  secretsManager({
    fetchData: { apiKey: process.env.HELPCRUNCH_API_KEY_SECRET_ID ?? '' },
    setToContext: true,
    cacheExpiry: 300_000,
    // Prefetch stays on, @middy/secrets-manager's default: the read starts at init, as ours do.
  }),
);
