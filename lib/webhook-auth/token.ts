import { WebhookAuthError } from '../errors';
import { requireHeader, safeEqual, type WebhookRequest } from './request';

/** A shared secret sent verbatim in `header`. */
export function verifyToken(header: string, request: WebhookRequest, secret: string): void {
  if (!safeEqual(requireHeader(request, header), secret)) {
    throw new WebhookAuthError(`Token in header '${header.toLowerCase()}' does not match`);
  }
}
