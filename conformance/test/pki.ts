// A throwaway PKI for TLS tests, made with the openssl command: a cluster CA, another CA, and
// member certificates that are good, expired, for another name, or from the other CA.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem { cert: string; key: string }
export interface Pki { ca: string; otherCa: string; good: Pem; expired: Pem; wrongName: Pem; foreign: Pem; dir: string }

const ssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function ca(dir: string, name: string): void {
  ssl(dir, ['req', '-x509', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`]);
}

/** A certificate for `san` signed by `by`, valid for `days` (-1: its validity ended before it began, so it has expired). */
function leaf(dir: string, name: string, by: string, days: number, san: string): Pem {
  ssl(dir, ['req', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  ssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${by}.pem`, '-CAkey', `${by}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', String(days), '-extfile', `${name}.ext`]);
  return { cert: readFileSync(join(dir, `${name}.pem`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

/** Member certificates name 127.0.0.1 and localhost, the addresses the tests dial. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-pki-'));
  ca(dir, 'cluster-ca');
  ca(dir, 'other-ca');
  const san = 'IP:127.0.0.1,DNS:localhost';
  return {
    dir,
    ca: readFileSync(join(dir, 'cluster-ca.pem'), 'utf8'),
    otherCa: readFileSync(join(dir, 'other-ca.pem'), 'utf8'),
    good: leaf(dir, 'good', 'cluster-ca', 2, san),
    expired: leaf(dir, 'expired', 'cluster-ca', -1, san),
    wrongName: leaf(dir, 'wrong-name', 'cluster-ca', 2, 'DNS:elsewhere.example'),
    foreign: leaf(dir, 'foreign', 'other-ca', 2, san),
  };
}
