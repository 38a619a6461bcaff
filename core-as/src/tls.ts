// TLS as every host configures it: one certificate and key for both directions (members serve
// wss:// and present the same certificate when they dial), an optional CA that peers' certificates
// must chain to, and verification on unless switched off. A failed verification is a TlsReason,
// mapped here from the codes the TLS stack reports (OpenSSL's verify codes, Node's own).
import { InvalidOptionError } from './errors.js';

export type PemInput = string | Uint8Array;

export interface TlsOptions {
  /** This member's certificate chain (PEM). Served to dialers and presented when dialing. */
  cert: PemInput;
  /** The private key of `cert` (PEM). */
  key: PemInput;
  /**
   * The CA (PEM, one or several) that peers' certificates must chain to. With it, listeners also
   * require a certificate from every dialer (mutual TLS); without it, the system's roots verify
   * the listener and dialers are not asked for one.
   */
  ca?: PemInput | PemInput[];
  /** Verify peers' certificates (default true). `false` only for a test bench. */
  verifyPeers?: boolean;
}

/** Why a TLS link was refused, on the side that refused it. */
export type TlsReason =
  | 'cert_untrusted'        // the chain does not lead to a trusted CA (another CA, self-signed)
  | 'cert_expired'
  | 'cert_not_yet_valid'
  | 'cert_name_mismatch'    // the certificate does not name the host or IP that was dialed
  | 'cert_missing'          // a dialer presented no certificate to a listener that requires one
  | 'cert_rejected_by_peer' // the listener refused our certificate (its own event says why)
  | 'tls_error';            // any other TLS failure (protocol, bad key)

export const TLS_REASONS: readonly TlsReason[] = [
  'cert_untrusted', 'cert_expired', 'cert_not_yet_valid', 'cert_name_mismatch', 'cert_missing', 'cert_rejected_by_peer', 'tls_error',
];

const BY_CODE: Record<string, TlsReason> = {
  CERT_HAS_EXPIRED: 'cert_expired',
  CERT_NOT_YET_VALID: 'cert_not_yet_valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'cert_name_mismatch',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'cert_untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'cert_untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'cert_untrusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'cert_untrusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'cert_untrusted',
  CERT_SIGNATURE_FAILURE: 'cert_untrusted',
  CERT_UNTRUSTED: 'cert_untrusted',
  CERT_REJECTED: 'cert_untrusted',
  ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE: 'cert_missing',
  UNABLE_TO_GET_CRL: 'cert_untrusted',
};

/** The reason for a TLS stack's error code, or undefined when the code is not a TLS failure. */
export function tlsReason(code: string | undefined): TlsReason | undefined {
  if (code === undefined) return undefined;
  return BY_CODE[code] ?? (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') ? 'tls_error' : undefined);
}

/** The HTTP status a listener answers a dialer whose certificate it refused (before any upgrade). */
export const TLS_REFUSED_STATUS = 403;

const isPem = (v: unknown): v is PemInput => (typeof v === 'string' && v.length > 0) || (v instanceof Uint8Array && v.length > 0);

/** Validates `tls`; throws InvalidOptionError naming the field. */
export function checkTls(tls: unknown): TlsOptions | undefined {
  if (tls === undefined) return undefined;
  if (tls === null || typeof tls !== 'object') throw new InvalidOptionError('tls', 'must be { cert, key, ca?, verifyPeers? }');
  const t = tls as Record<string, unknown>;
  if (!isPem(t.cert)) throw new InvalidOptionError('tls.cert', 'must be a PEM certificate (string or bytes)');
  if (!isPem(t.key)) throw new InvalidOptionError('tls.key', 'must be a PEM private key (string or bytes)');
  if (t.ca !== undefined && !(isPem(t.ca) || (Array.isArray(t.ca) && t.ca.length > 0 && t.ca.every(isPem)))) {
    throw new InvalidOptionError('tls.ca', 'must be a PEM certificate or a non-empty array of them');
  }
  if (t.verifyPeers !== undefined && typeof t.verifyPeers !== 'boolean') throw new InvalidOptionError('tls.verifyPeers', 'must be a boolean');
  return t as unknown as TlsOptions;
}
