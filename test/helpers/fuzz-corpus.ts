/**
 * Valid packets for the fuzz to mutate. Scapy builds them from the random specs (every layer
 * kind, whether or not synack has it yet: the dissector must survive them all) and from the
 * tunnel and service specs (GRE/Ethernet, PPTP/PPP, NTP modes 6 and 7, DHCP option 82, the RA
 * options), synack builds IP/TCP SYNs itself, and every IP packet is also wrapped in each link
 * header.
 */
import { IP, TCP, Raw } from '../../src/index.js';
import { randomSpecs } from './random-specs.js';
import { moreProtoSpecs } from './protos-more-specs.js';
import { scapyBuild, scapyUnavailable } from './scapy.js';
import { FUZZ_LINKS, wrapForLink, type Corpus } from './fuzz-inputs.js';

export async function buildCorpus(specCount = 600, seed = 0xf022): Promise<{ corpus: Corpus; note: string }> {
  const corpus: Corpus = { ip: [], ether: [], sll: [], sll2: [], null: [] };
  let note = 'corpus: synack-built IP/TCP only (Scapy unavailable)';
  if (scapyUnavailable() === undefined) {
    const specs = randomSpecs(specCount, seed, () => true);
    const more = moreProtoSpecs(specCount >> 2, seed);
    const answers = await scapyBuild([...specs, ...more].map((s) => s.expr));
    specs.forEach((s, i) => {
      const hex = answers[i]!.hex;
      if (hex !== undefined) corpus[s.link].push(Buffer.from(hex, 'hex'));
    });
    more.forEach((s, i) => {
      const hex = answers[specs.length + i]!.hex;
      if (hex !== undefined) corpus[s.expr.startsWith('Ether(') ? 'ether' : 'ip'].push(Buffer.from(hex, 'hex'));
    });
    note = `corpus: ${specCount} Scapy-built packets of every layer kind, ${more.length} of the tunnels and services, plus synack-built IP/TCP`;
  }
  const own = [
    IP({ dst: '127.0.0.1' }).add(TCP({ dport: 80, flags: 'S', options: [['MSS', 1460], ['SAckOK'], ['Timestamp', [1, 0]], ['NOP'], ['WScale', 7]] })),
    IP({ src: '198.51.100.1', dst: '198.51.100.2', options: [{ name: 'IPOption_RR', routers: ['127.0.0.2', '127.0.0.3'] }] }).add(TCP({ flags: 'PA', options: [['SAck', [1, 2, 3, 4]], ['EOL']] }), Raw({ load: 'hello' })),
    IP({ src: '127.0.0.1', dst: '127.0.0.2', options: [{ name: 'IPOption_Timestamp', flg: 1, internet_address: '127.0.0.9' }, { name: 'IPOption_NOP' }] }).add(TCP({ options: [[253, Buffer.from([1, 2])], ['NOP'], ['NOP']] })),
  ];
  for (const p of own) corpus.ip.push(p.bytes());
  // Every IP packet in every link header too, so each link type has deep inputs.
  const ipPackets = corpus.ip.slice();
  for (const link of FUZZ_LINKS) if (link !== 'ip') for (const p of ipPackets.slice(0, 200)) corpus[link].push(wrapForLink(p, link));
  return { corpus, note };
}
