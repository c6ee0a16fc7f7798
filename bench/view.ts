/**
 * The browser view on a big capture: 100,000 packets (10,000 TCP conversations of 10 segments:
 * handshake, a request and its answer, the 3-packet close), crafted here and written as pcap.
 * Measured, in one run with rounds interleaved (median of each, every round printed):
 *   - build:  `renderFileView` (read, print, analyse, HTML) in this process
 *   - open:   headless Chromium from navigation start to the list's first paint (the page's
 *             'synack-first-paint' mark), the HTML loaded from file://
 *   - select: a click on a packet row until every pane is updated and laid out (in the page)
 *   - scroll: a jump to the middle of the list until its rows are laid out
 * Peer: tshark reading the same file to /dev/null (Wireshark's dissector printing its list),
 * the cost of a list of 100,000 lines in the tool people already use.
 * Issue targets: first paint < 2 s, select < 50 ms.
 * Needs /usr/bin/chromium and playwright-core; no root, no network.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ether, IP, TCP, writePcap, type Packet } from '../src/index.js';
import { renderFileView } from '../src/view/index.js';
import { launchBrowser } from '../test/helpers/view-browser.js';

const STREAMS = 10_000;
const ROUNDS = 3;
const SELECTS = 15;

function conversation(k: number, t0: number): Packet[] {
  const c = { src: '127.0.0.1', dst: '127.0.0.2' };
  const sport = 20000 + (k % 40000);
  const a = 1000 + k * 7;
  const b = 5000 + k * 11;
  const seg = (fromClient: boolean, flags: string, seq: number, ack: number, load?: string): Packet => {
    const ip = fromClient ? IP({ ...c }) : IP({ src: c.dst, dst: c.src });
    const tcp = TCP({ sport: fromClient ? sport : 80, dport: fromClient ? 80 : sport, flags, seq, ack, window: 502 });
    const p = Ether().add(ip, tcp, ...(load ? [load] : []));
    return p;
  };
  const req = 'GET / HTTP/1.1\r\n\r\n';
  const res = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
  const ps = [
    seg(true, 'S', a, 0),
    seg(false, 'SA', b, a + 1),
    seg(true, 'A', a + 1, b + 1),
    seg(true, 'PA', a + 1, b + 1, req),
    seg(false, 'A', b + 1, a + 1 + req.length),
    seg(false, 'PA', b + 1, a + 1 + req.length, res),
    seg(true, 'A', a + 1 + req.length, b + 1 + res.length),
    seg(false, 'FA', b + 1 + res.length, a + 1 + req.length),
    seg(true, 'FA', a + 1 + req.length, b + 2 + res.length),
    seg(false, 'A', b + 2 + res.length, a + 2 + req.length),
  ];
  ps.forEach((p, i) => (p.time = t0 + i * 50));
  return ps;
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const ms = (x: number): string => `${x.toFixed(1)} ms`;

const dir = mkdtempSync(join(tmpdir(), 'synack-view-bench-'));
const browser = await launchBrowser({ width: 1500, height: 900 });
try {
  const pcap = join(dir, 'big.pcap');
  const writer = writePcap(pcap);
  let count = 0;
  for (let k = 0; k < STREAMS; k++) {
    for (const p of conversation(k, 1_700_000_000_000_000 + k * 1000)) {
      writer.write(p);
      count++;
    }
  }
  writer.close();
  const packets = { length: count };
  console.log(`capture: ${count} packets, ${STREAMS} TCP conversations`);
  const build: number[] = [];
  const open: number[] = [];
  const peer: number[] = [];
  const selects: number[] = [];
  const scrolls: number[] = [];
  const htmlPath = join(dir, 'big.html');
  for (let round = 1; round <= ROUNDS; round++) {
    let t = performance.now();
    const html = renderFileView(pcap);
    build.push(performance.now() - t);
    writeFileSync(htmlPath, html);
    t = performance.now();
    spawnSync('tshark', ['-n', '-r', pcap], { stdio: ['ignore', 'ignore', 'ignore'] });
    peer.push(performance.now() - t);
    const page = await browser.context.newPage();
    await page.goto(`file://${htmlPath}`);
    await page.waitForFunction(() => performance.getEntriesByName('synack-first-paint').length > 0, undefined, { timeout: 60_000 });
    open.push(await page.evaluate(() => performance.getEntriesByName('synack-first-paint')[0]!.startTime));
    const picks = await page.evaluate(async (n) => {
      const out: number[] = [];
      for (let k = 0; k < n; k++) {
        const rows = document.querySelectorAll<HTMLElement>('#list .row');
        const row = rows[(k * 7) % rows.length]!;
        const t0 = performance.now();
        row.click();
        document.body.getBoundingClientRect();
        void document.getElementById('tree')!.offsetHeight;
        out.push(performance.now() - t0);
      }
      return out;
    }, SELECTS);
    selects.push(...picks);
    scrolls.push(
      await page.evaluate(() => {
        const list = document.getElementById('list')!;
        const t0 = performance.now();
        list.scrollTop = list.scrollHeight / 2;
        list.dispatchEvent(new Event('scroll'));
        void list.querySelector('.row')!.getBoundingClientRect();
        return performance.now() - t0;
      }),
    );
    await page.close();
    console.log(
      `round ${round}: build ${ms(build.at(-1)!)}, first paint ${ms(open.at(-1)!)}, select median ${ms(median(picks))} (max ${ms(Math.max(...picks))}), scroll ${ms(scrolls.at(-1)!)}; tshark -r ${ms(peer.at(-1)!)}`,
    );
  }
  console.log(`\nmedians over ${ROUNDS} rounds (${packets.length} packets):`);
  console.log(`  synack view --html (build)        ${ms(median(build))}`);
  console.log(`  first list paint in Chromium      ${ms(median(open))}   (target < 2000 ms)`);
  console.log(`  select a packet, every pane       ${ms(median(selects))}   (target < 50 ms; ${selects.length} clicks)`);
  console.log(`  jump to the middle of the list    ${ms(median(scrolls))}`);
  console.log(`  peer: tshark -n -r (to /dev/null) ${ms(median(peer))}   build + paint / tshark = ${((median(build) + median(open)) / median(peer)).toFixed(2)}`);
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
