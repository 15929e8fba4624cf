import ipaddr from 'ipaddr.js';

/** Stops a script on bad arguments: the message and exit code 2. */
export function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

/** The URL a load script may send to: this host only (127.0.0.0/8, ::1, localhost), with a token to send. */
export function loadTarget(url: string, token: string | undefined): { baseUrl: URL; token: string } {
  const baseUrl = new URL(url);
  if (!isLoopback(baseUrl.hostname)) fail(`--url ${url}: load goes only to this host (127.0.0.0/8, ::1, localhost).`);
  if (!token) fail('--token is required (npm run vigil -- token create --account load)');
  return { baseUrl, token };
}
