// What host-node and host-bun share from @trellis/core: the listen option's check, dial-address
// check, advertised addresses and close reasons.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, checkDialAddress, checkListen, closeReason, closeText, listenAddress } from '@trellis/core';

describe('shared host pieces', () => {
  it('listen is { host, port } with a port in 0..65535, or { server } where the host attaches to one', () => {
    expect(() => checkListen(undefined, false)).not.toThrow();
    expect(() => checkListen({ host: '127.0.0.1', port: 0 }, false)).not.toThrow();
    expect(() => checkListen({ server: {} }, true)).not.toThrow();
    for (const bad of [null, 5, { host: 1, port: 1 }, { host: 'h', port: 1.5 }, { host: 'h', port: 65536 }, { host: 'h', port: -1 }]) {
      expect(() => checkListen(bad, true)).toThrow(InvalidOptionError);
    }
    expect(() => checkListen({ server: {} }, false)).toThrow(/port: 0\.\.65535 }$/);
  });

  it('only ws:// and wss:// addresses are dialed', () => {
    expect(() => checkDialAddress('ws://a:1')).not.toThrow();
    expect(() => checkDialAddress('wss://a:1')).not.toThrow();
    expect(() => checkDialAddress('http://a:1')).toThrow('not a ws:// or wss:// address: http://a:1');
  });

  it('advertised addresses name the scheme and bracket IPv6 hosts', () => {
    expect(listenAddress(false, '127.0.0.1', 4000)).toBe('ws://127.0.0.1:4000');
    expect(listenAddress(true, '::1', 4000)).toBe('wss://[::1]:4000');
  });

  it('a close is named by the peer\'s reason, else by its code', () => {
    expect(closeReason(4000, 'shutdown')).toBe('shutdown');
    expect(closeReason(1009, '')).toBe('frame_too_large');
    expect(closeReason(1006, '')).toBe('connection_lost');
    expect(closeReason(1011, '')).toBe('code_1011');
    expect(closeText('x'.repeat(500))).toHaveLength(120);
  });
});
