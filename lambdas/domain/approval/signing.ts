import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Approval link tokens: HMAC-SHA256 over (request id, approver, expiry), so a link names one
 * approver of one request until one time, and changing any of them breaks the signature. The
 * task token never leaves the server.
 *
 * A token is `<approver position>.<expiry, base36 epoch seconds>.<base64url mac>`: the approver
 * travels as their position in the request's stored approver list rather than as an address,
 * which keeps every link the same short length (mail clients mangle long URLs) and keeps
 * addresses out of proxy and access logs.
 */
export interface LinkClaims {
  readonly requestId: string;
  readonly approver: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/** 128 bits: far beyond guessing, 22 characters in the URL. */
const MAC_BYTES = 16;

function mac(key: Buffer, purpose: 'link' | 'form', parts: readonly string[]): Buffer {
  return createHmac('sha256', key)
    .update([purpose, ...parts].join('\n'))
    .digest()
    .subarray(0, MAC_BYTES);
}

/**
 * Compares the encoded text itself, not its decoding: base64url ignores the unused low bits of
 * the last character, so comparing decoded bytes would accept altered tokens as genuine.
 */
function sameMac(encoded: string, expected: Buffer): boolean {
  const got = Buffer.from(encoded, 'utf8');
  const want = Buffer.from(expected.toString('base64url'), 'utf8');
  return got.length === want.length && timingSafeEqual(got, want);
}

const linkMac = (key: Buffer, c: LinkClaims) =>
  mac(key, 'link', [c.requestId, c.approver.toLowerCase(), String(c.expiresAt)]);

/** `approverIndex` is the approver's position in `request.approvers`. */
export function signLink(key: Buffer, claims: LinkClaims, approverIndex: number): string {
  return `${approverIndex}.${claims.expiresAt.toString(36)}.${linkMac(key, claims).toString('base64url')}`;
}

export type LinkCheck =
  | { readonly ok: true; readonly claims: LinkClaims }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'bad-signature' }
  | { readonly ok: false; readonly reason: 'expired'; readonly claims: LinkClaims };

const TOKEN_SHAPE = /^(\d{1,3})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/;

/**
 * Checks a link token against the request it was presented for. The signature is checked
 * before the expiry, so "expired" is only ever said about a genuine link.
 */
export function verifyLink(
  key: Buffer,
  requestId: string,
  approvers: readonly string[],
  token: string | undefined,
  nowSeconds: number,
): LinkCheck {
  if (!token) return { ok: false, reason: 'missing' };
  const match = TOKEN_SHAPE.exec(token);
  const index = match ? Number(match[1]) : Number.NaN;
  const approver = match ? approvers[index] : undefined;
  const expiresAt = match ? Number.parseInt(match[2] as string, 36) : Number.NaN;
  if (
    !match ||
    approver === undefined ||
    !Number.isSafeInteger(expiresAt) ||
    // Only the spelling signLink writes: `00.…` or `0.0tpi…` name the same claims, so they
    // would verify, and one link would have many valid forms (and dodge any record of it).
    String(index) !== match[1] ||
    expiresAt.toString(36) !== match[2]
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const claims: LinkClaims = { requestId, approver, expiresAt };
  if (!sameMac(match[3] as string, linkMac(key, claims))) return { ok: false, reason: 'bad-signature' };
  if (nowSeconds >= expiresAt) return { ok: false, reason: 'expired', claims };
  return { ok: true, claims };
}

/**
 * The form's anti-forgery value: bound to the request, the approver, the moment the page was
 * rendered and a random nonce, valid for `FORM_TTL_SECONDS`. A POST without the value of a page
 * that mlcycle rendered for that approver is refused, so neither a bare link nor a cross-site
 * form can decide. It is one-time because a decision can be recorded once per approver.
 */
export const FORM_TTL_SECONDS = 8 * 3600;

export function formToken(
  key: Buffer,
  requestId: string,
  approver: string,
  issuedAt: number,
  nonce: string = randomBytes(9).toString('base64url'),
): string {
  const sig = mac(key, 'form', [requestId, approver.toLowerCase(), String(issuedAt), nonce]);
  return `${issuedAt.toString(36)}.${nonce}.${sig.toString('base64url')}`;
}

export type FormCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'forged' | 'stale' };

export function verifyFormToken(
  key: Buffer,
  requestId: string,
  approver: string,
  value: string | undefined,
  nowSeconds: number,
): FormCheck {
  if (!value) return { ok: false, reason: 'missing' };
  const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{22})$/.exec(value);
  if (!match) return { ok: false, reason: 'malformed' };
  const issuedAt = Number.parseInt(match[1] as string, 36);
  // Only the spelling formToken writes (no leading zeros), as for link tokens.
  if (!Number.isSafeInteger(issuedAt) || issuedAt.toString(36) !== match[1]) {
    return { ok: false, reason: 'malformed' };
  }
  const expected = mac(key, 'form', [
    requestId,
    approver.toLowerCase(),
    String(issuedAt),
    match[2] as string,
  ]);
  if (!sameMac(match[3] as string, expected)) return { ok: false, reason: 'forged' };
  // A page from the future means a skewed clock; allow a minute of it.
  if (issuedAt > nowSeconds + 60 || nowSeconds - issuedAt > FORM_TTL_SECONDS) {
    return { ok: false, reason: 'stale' };
  }
  return { ok: true };
}
