// The kernel's Fast Open cookie (SipHash-2-4 over the SYN's addresses). The oracles are
// cookies a Linux kernel gave: packetdrill's run_all.py TFO_COOKIE (its addresses, defaults.sh's
// key), fastopen/server/simple1.pkt's literal cookie, and this machine's kernel in local mode
// (test/script-local.test.ts runs a Fast Open server script that needs it).
import { describe, expect, it } from 'vitest';
import { fastOpenCookie, siphash24, sysctlKeyBytes } from '../src/script/local/fastopen-cookie.js';
import { parseLocalScript } from '../src/script/local/run.js';

const defaultsKey = sysctlKeyBytes('a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4')!;
const simple1Key = sysctlKeyBytes('a0bf63f7-ed803d81-cd641d30-cebc4a90')!;

describe('Fast Open cookies', () => {
  it('SipHash-2-4 matches the reference vector (key 00..0f, message 00..0e)', () => {
    const key = Buffer.from([...Array(16).keys()]);
    expect(siphash24(key, Buffer.from([...Array(15).keys()])).toString(16)).toBe('a129ca6149be45e5');
  });

  it("gives packetdrill's TFO_COOKIE for its addresses, v4 and v6", () => {
    expect(fastOpenCookie(defaultsKey, '192.0.2.1', '192.168.0.1').toString('hex')).toBe('3021b9d889017eeb');
    expect(fastOpenCookie(defaultsKey, 'fd3d:fa7b:d17d::1', 'fd3d:0a0b:17d6::1').toString('hex')).toBe('c1d1e9742a47a9bc');
  });

  it("gives simple1.pkt's cookie and this kernel's for the namespace's addresses", () => {
    expect(fastOpenCookie(simple1Key, '10.248.0.2', '192.168.0.2').toString('hex')).toBe('00abaaabe8e954c2');
    expect(fastOpenCookie(simple1Key, '198.51.100.2', '198.51.100.1').toString('hex')).toBe('4b573637f6d549b5');
  });

  it('refuses keys that are not four hex words', () => {
    expect(sysctlKeyBytes('a1a1a1a1-b2b2b2b2-c3c3c3c3')).toBeUndefined();
    expect(sysctlKeyBytes('zz-b2b2b2b2-c3c3c3c3-d4d4d4d4')).toBeUndefined();
  });

  it('reads TFO_COOKIE in a local script as run_all.py defines it, and names an undefined symbol', () => {
    const s = parseLocalScript('0 < S 0:10(10) win 32792 <mss 1460,FOEXP TFO_COOKIE>\n');
    const line = s.statements.find((st) => st.type === 'packet');
    expect(line?.type === 'packet' && Array.isArray(line.options) ? line.options[1] : undefined).toEqual({ kind: 'FOEXP', cookie: Buffer.from('3021b9d889017eeb', 'hex') });
    expect(() => parseLocalScript('0 < S 0:0(0) win 1 <FO OTHER_COOKIE>\n')).toThrow(/OTHER_COOKIE.*not defined/);
  });
});
