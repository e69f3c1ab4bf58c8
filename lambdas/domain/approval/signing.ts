import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Approval link tokens: HMAC-SHA256 over (request id, approver, expiry), so a link names one
 * approver of one request until one time, and changing any of them breaks the signature. The
 * task token never leaves the server. A token is `<base64url(approver|expiry)>.<base64url(mac)>`.
 */
export interface LinkClaims {
  readonly requestId: string;
  readonly approver: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

const MAC_BYTES = 18; // 144 bits: plenty against forgery, short enough for mail clients

function mac(key: Buffer, purpose: string, parts: readonly string[]): Buffer {
  return createHmac('sha256', key)
    .update(`${purpose}\n${parts.join('\n')}`)
    .digest()
    .subarray(0, MAC_BYTES);
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function signLink(key: Buffer, claims: LinkClaims): string {
  const body = Buffer.from(`${claims.approver}|${claims.expiresAt}`).toString('base64url');
  const sig = mac(key, 'link', [claims.requestId, claims.approver, String(claims.expiresAt)]).toString(
    'base64url',
  );
  return `${body}.${sig}`;
}

export type LinkCheck =
  | { ok: true; claims: LinkClaims }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired'; claims?: LinkClaims };

export function verifyLink(
  key: Buffer,
  requestId: string,
  token: string | undefined,
  nowSeconds: number,
): LinkCheck {
  const [body, sig, extra] = (token ?? '').split('.');
  if (!body || !sig || extra !== undefined) return { ok: false, reason: 'malformed' };
  const decoded = Buffer.from(body, 'base64url').toString('utf8');
  const cut = decoded.lastIndexOf('|');
  const approver = decoded.slice(0, cut);
  const expiresAt = Number(decoded.slice(cut + 1));
  if (cut <= 0 || !Number.isInteger(expiresAt)) return { ok: false, reason: 'malformed' };
  const claims = { requestId, approver, expiresAt };
  if (!equal(Buffer.from(sig, 'base64url'), mac(key, 'link', [requestId, approver, String(expiresAt)]))) {
    return { ok: false, reason: 'bad-signature' };
  }
  if (nowSeconds >= expiresAt) return { ok: false, reason: 'expired', claims };
  return { ok: true, claims };
}

/**
 * The form's anti-forgery value: bound to the request, the approver and the moment the page was
 * rendered, valid for `ttlSeconds`. A POST without the page's value is refused, so a link alone
 * (or a cross-site form) cannot decide.
 */
export function formToken(key: Buffer, requestId: string, approver: string, issuedAt: number): string {
  return `${issuedAt}.${mac(key, 'form', [requestId, approver, String(issuedAt)]).toString('base64url')}`;
}

export function verifyFormToken(
  key: Buffer,
  requestId: string,
  approver: string,
  value: string | undefined,
  nowSeconds: number,
  ttlSeconds = 3600,
): boolean {
  const [issued, sig] = (value ?? '').split('.');
  const issuedAt = Number(issued);
  if (!sig || !Number.isInteger(issuedAt)) return false;
  if (issuedAt > nowSeconds + 60 || nowSeconds - issuedAt > ttlSeconds) return false;
  return equal(Buffer.from(sig, 'base64url'), mac(key, 'form', [requestId, approver, String(issuedAt)]));
}
