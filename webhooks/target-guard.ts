import { lookup as lookupCallback, promises as dns, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { classifyAddress, isIpAddress, urlHost } from '../domain/webhooks.js';

/** Raised when a webhook target resolves to an address that deliveries may not reach. */
export class WebhookTargetRefusedError extends Error {
  override readonly name = 'WebhookTargetRefusedError';
}

function refusal(host: string, addresses: readonly string[]): WebhookTargetRefusedError | null {
  for (const address of addresses) {
    const range = classifyAddress(address);
    if (range === 'public') continue;
    const where = host === address ? `${address} is` : `${host} resolves to`;
    return new WebhookTargetRefusedError(`${where} a ${range} address${host === address ? '' : ` (${address})`}; webhooks go to public addresses only`);
  }
  return null;
}

/**
 * Refuses (WebhookTargetRefusedError) a URL whose host is, or resolves to, a private, loopback,
 * link-local or otherwise non-public address, unless private targets are allowed.
 * DNS failures are thrown as they come: the caller decides whether they are final.
 */
export async function assertWebhookTargetAllowed(url: string, { allowPrivate }: { allowPrivate: boolean }): Promise<void> {
  if (allowPrivate) return;
  const host = urlHost(url);
  const addresses = isIpAddress(host) ? [host] : (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  const refused = refusal(host, addresses);
  if (refused) throw refused;
}

/**
 * Refuses (WebhookTargetRefusedError) a URL whose host is a non-public IP literal. A socket makes no
 * lookup for an address, so `publicAddressLookup` never sees these; a host name is left to it.
 */
export function assertLiteralAddressAllowed(url: string): void {
  const host = urlHost(url);
  const refused = isIpAddress(host) ? refusal(host, [host]) : null;
  if (refused) throw refused;
}

/**
 * A socket `lookup` that applies the same rule when the connection is made, so a host cannot answer
 * the check with a public address and the connection with a private one (DNS rebinding).
 */
export const publicAddressLookup: LookupFunction = (hostname, options, callback) => {
  lookupCallback(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, []);
    const refused = refusal(hostname, addresses.map((a) => a.address));
    if (refused) return callback(refused, []);
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
};
