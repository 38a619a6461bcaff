// Bun's WebSocket client reports a failed TLS handshake only as text ("TLS handshake failed: "
// followed by OpenSSL's verify message, X509_verify_cert_error_string), with no code. This is the
// one place that text is read: it becomes a TlsReason at the transport's edge.
import type { TlsReason } from '@trellis/core';

const BY_TEXT: [string, TlsReason][] = [
  ['certificate has expired', 'cert_expired'],
  ['certificate is not yet valid', 'cert_not_yet_valid'],
  ["does not match certificate's altnames", 'cert_name_mismatch'],
  ['unable to verify the first certificate', 'cert_untrusted'],
  ['unable to get local issuer certificate', 'cert_untrusted'],
  ['unable to get issuer certificate', 'cert_untrusted'],
  ['self signed certificate', 'cert_untrusted'],
  ['self-signed certificate', 'cert_untrusted'],
  ['certificate signature failure', 'cert_untrusted'],
];

/** The reason in a Bun WebSocket error message, or undefined when it is not a TLS failure. */
export function tlsReasonOfBunError(message: string): TlsReason | undefined {
  if (!message.includes('TLS handshake failed')) return undefined;
  for (const [text, reason] of BY_TEXT) if (message.includes(text)) return reason;
  return 'tls_error';
}
