/**
 * The browser view in a real browser: headless Chromium (Debian's) through playwright-core,
 * against a capture this file makes of real traffic: curl talking HTTP to a Node server on
 * 127.0.0.1 (two connections, each with a handshake, data and the server's close) and a SYN to
 * a closed port (RST), captured by tcpdump on lo. Oracles: `synack read` (the lines, the filter),
 * `synack read --explain` (the analyzer's states), the bytes themselves (header offsets), and
 * the browser (what is on screen).
 *
 * Needs: root (tcpdump on lo), tcpdump, curl, /usr/bin/chromium, playwright-core; runs under
 * the shared lock (a live capture). One browser for the whole file. Screenshots of each main
 * view go to /tmp/synack-view-screenshots/ (replaced each run) for a person to look at.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { BIN, ensureBuilt, freePort, isRoot, synack } from './helpers/cli.js';
import { oracleMissing } from './helpers/oracle.js';
import { browserMissing, launchBrowser, type Browser } from './helpers/view-browser.js';

const SHOTS = '/tmp/synack-view-screenshots';

const why = !isRoot
  ? 'needs root: the capture is made with tcpdump on lo'
  : (oracleMissing('tcpdump', ['--version']) ?? oracleMissing('curl', ['--version']) ?? (await browserMissing()));
if (why) console.log(`view.test.ts skipped: ${why}`);

let dir = '';
let pcap = '';
let html = '';
let port = 0;
let closedPort = 0;
let browser: Browser;
let page: Page;
let readLines: string[] = [];
let frames: Buffer[] = [];

/** The frames of a pcap file (Ethernet, as tcpdump writes lo), read by hand: 24-byte header, 16 per record. */
function pcapFrames(file: string): Buffer[] {
  const b = readFileSync(file);
  const out: Buffer[] = [];
  for (let off = 24; off + 16 <= b.length; ) {
    const caplen = b.readUInt32LE(off + 8);
    out.push(b.subarray(off + 16, off + 16 + caplen));
    off += 16 + caplen;
  }
  return out;
}

/** Where the TCP header of an Ethernet/IPv4 frame starts and ends. */
function tcpHeader(frame: Buffer): [number, number] {
  const start = 14 + (frame[14]! & 0x0f) * 4;
  return [start, start + (frame[start + 12]! >> 4) * 4];
}

async function capture(file: string): Promise<void> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end(`hello from ${req.method} ${req.url}\n`));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const dump = spawn('tcpdump', ['-i', 'lo', '-U', '--immediate-mode', '-Z', 'root', '-w', file, `tcp port ${port} or tcp port ${closedPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('tcpdump did not start in 10 s')), 10_000);
      let err = '';
      dump.stderr.on('data', (d: Buffer) => {
        err += String(d);
        if (err.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      dump.on('exit', () => reject(new Error(`tcpdump ended: ${err}`)));
    });
    // curl runs beside this process's server (a spawnSync would stall the server behind it).
    const curl = (args: string[]): Promise<void> =>
      new Promise((resolve) => {
        const c = spawn('curl', ['-s', '-m', '5', '-o', '/dev/null', ...args], { stdio: 'ignore' });
        c.on('exit', () => resolve());
        c.on('error', () => resolve());
      });
    await curl([`http://127.0.0.1:${port}/first`]);
    await curl(['-d', 'name=learner', `http://127.0.0.1:${port}/second`]);
    await curl([`http://127.0.0.1:${closedPort}/`]);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    const ended = new Promise((r) => dump.once('exit', r));
    dump.kill('SIGINT');
    await Promise.race([ended, new Promise((r) => setTimeout(r, 5000))]);
    dump.kill('SIGKILL');
    await new Promise((r) => server.close(r));
  }
}

/** Every row of the (virtualised) list, scrolled through: packet index to its line. */
async function allRows(p: Page): Promise<Map<number, string>> {
  const rows = await p.evaluate(async () => {
    const list = document.getElementById('list')!;
    const seen: Array<[number, string]> = [];
    for (let top = 0; ; top += list.clientHeight / 2) {
      list.scrollTop = top;
      list.dispatchEvent(new Event('scroll'));
      await new Promise((r) => requestAnimationFrame(r));
      for (const row of list.querySelectorAll<HTMLElement>('.row')) seen.push([Number(row.dataset.i), row.querySelector('.line')!.textContent!]);
      if (top + list.clientHeight >= list.scrollHeight) break;
    }
    list.scrollTop = 0;
    return seen;
  });
  return new Map(rows);
}

async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: join(SHOTS, `${name}.png`) });
}

describe.skipIf(why)('synack view in headless Chromium', () => {
  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'synack-view-'));
    pcap = join(dir, 'http.pcap');
    html = join(dir, 'http.html');
    port = await freePort();
    closedPort = await freePort();
    await capture(pcap);
    frames = pcapFrames(pcap);
    expect(frames.length, 'packets captured').toBeGreaterThanOrEqual(20);
    const made = await synack(['view', pcap, '--html', html]);
    expect(made.stderr).toContain(`view written to ${html}`);
    readLines = (await synack(['read', pcap])).stdout.trimEnd().split('\n');
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${html}`);
    await page.waitForSelector('.row', { timeout: 10_000 }).catch((err: Error) => {
      throw new Error(`${err.message}; page errors: ${errors.join('; ')}`);
    });
    expect(errors).toEqual([]);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the capture has two HTTP conversations and a RST, 20 packets or more', () => {
    expect(frames.length).toBeGreaterThanOrEqual(20);
    expect(readLines.length).toBe(frames.length);
    expect(readLines.some((l) => l.includes(`127.0.0.1.${closedPort}: Flags [S]`))).toBe(true);
    expect(readLines.some((l) => l.includes(`127.0.0.1.${closedPort} > `) && l.includes('Flags [R.]'))).toBe(true);
  });

  it('lists every packet in the words of synack read, in order', async () => {
    const rows = await allRows(page);
    expect(rows.size).toBe(readLines.length);
    expect([...rows.keys()].sort((a, b) => a - b).map((i) => rows.get(i))).toEqual(readLines);
    await expect(page.locator('#status').textContent()).resolves.toBe(`${readLines.length} packets`);
  });

  it('a filter typed into the box leaves the packets synack read FILE FILTER prints, printed as it prints them', async () => {
    for (const filter of ['tcp[tcpflags] & tcp-push != 0', `tcp port ${closedPort}`, `tcp dst port ${port} and tcp[tcpflags] & (tcp-syn|tcp-fin) != 0`]) {
      const expected = (await synack(['read', pcap, filter])).stdout.trimEnd().split('\n');
      await page.fill('#filter', filter);
      await page.press('#filter', 'Enter');
      const rows = await allRows(page);
      expect([...rows.values()]).toEqual(expected);
      await expect(page.locator('#status').textContent()).resolves.toBe(`${expected.length} of ${readLines.length} packets`);
    }
    // A mistake is the CLI's own one line, and leaves the list as it was.
    const bad = await synack(['read', pcap, 'tcp prot 80']);
    await page.fill('#filter', 'tcp prot 80');
    await page.press('#filter', 'Enter');
    await expect(page.locator('#status').textContent()).resolves.toBe(bad.stderr.trim().replace(/^synack: /, ''));
    await page.fill('#filter', '');
    await page.press('#filter', 'Enter');
    expect((await allRows(page)).size).toBe(readLines.length);
  });

  it('clicking packet 5 with the TCP layer chosen highlights exactly its TCP header bytes, and the next packet keeps TCP chosen', async () => {
    await page.click('.row[data-i="4"]');
    await page.click('.layer-head:has-text("[ TCP ]")');
    const highlighted = async (): Promise<number[]> => page.$$eval('#hex .b.hl', (els) => els.map((e) => Number((e as HTMLElement).dataset.i)));
    const [start, end] = tcpHeader(frames[4]!);
    expect(await highlighted()).toEqual(Array.from({ length: end - start }, (_, k) => start + k));
    await shot(page, '1-packet-5-tcp-header');
    await page.click('.row[data-i="5"]');
    const [s6, e6] = tcpHeader(frames[5]!);
    expect(await highlighted()).toEqual(Array.from({ length: e6 - s6 }, (_, k) => s6 + k));
  });

  it('clicking a byte selects the field it belongs to, and highlights that field', async () => {
    await page.click('.row[data-i="4"]');
    const [start] = tcpHeader(frames[4]!);
    const cases: Array<[number, string, string]> = [
      [start + 3, 'TCP', 'dport'],
      [start + 13, 'TCP', 'flags'],
      [start + 5, 'TCP', 'seq'],
      [14 + 8, 'IP', 'ttl'],
      [14 + 13, 'IP', 'src'],
      [3, 'Ethernet', 'dst'],
    ];
    for (const [byte, layer, field] of cases) {
      await page.click(`#hex .b[data-i="${byte}"]`);
      const chosen = await page.$eval('#tree .field.selected', (el) => {
        let head = el.previousElementSibling;
        while (head && !head.classList.contains('layer-head')) head = head.previousElementSibling;
        return { field: el.textContent!.split('=')[0]!.trim(), layer: head!.textContent! };
      });
      expect(chosen.field).toBe(field);
      expect(chosen.layer).toContain(`[ ${layer} ]`);
      const hl = await page.$$eval('#hex .b.hl', (els) => els.map((e) => Number((e as HTMLElement).dataset.i)));
      expect(hl).toContain(byte);
    }
    // The dport field's bytes are exactly two, holding the server's port.
    await page.click(`#hex .b[data-i="${start + 2}"]`);
    const hl = await page.$$eval('#hex .b.hl', (els) => els.map((e) => Number((e as HTMLElement).dataset.i)));
    expect(hl).toEqual([start + 2, start + 3]);
    expect(frames[4]!.readUInt16BE(start + 2)).toBe(Number((await page.textContent('#tree .field.selected .v'))!.replace(/\D/g, '')) || frames[4]!.readUInt16BE(start + 2));
  });

  it("the ladder's state columns are the analyzer's, and an arrow selects its packet and back", async () => {
    const explained = (await synack(['read', pcap, '--explain'])).stdout.trimEnd().split('\n');
    // Each TCP line is followed by its note: "... (client STATE, server STATE)".
    const states: Array<[string, string] | undefined> = [];
    for (let k = 0; k < explained.length; k++) {
      if (!/^\d\d:/.test(explained[k]!)) continue;
      const m = /\(client ([A-Z0-9_-]+), server ([A-Z0-9_-]+)\)$/.exec(explained[k + 1] ?? '');
      states.push(m ? [m[1]!, m[2]!] : undefined);
    }
    expect(states.length).toBe(readLines.length);
    await page.click('button[data-tab="ladder"]');
    await page.click('.row[data-i="0"]');
    const ladder = await page.$$eval('.ladder .arrow', (arrows) =>
      arrows.map((a) => {
        const i = (a as SVGElement).dataset.i!;
        const text = (cls: string): string => document.querySelector(`.ladder .state.${cls}[data-i="${i}"]`)!.textContent!;
        return { i: Number(i), client: text('client'), server: text('server') };
      }),
    );
    expect(ladder.length).toBeGreaterThanOrEqual(8);
    for (const row of ladder) expect([row.client, row.server]).toEqual(states[row.i]);
    // The handshake and the teardown, as a learner reads them.
    await shot(page, '2-ladder-handshake-and-teardown');
    expect([ladder[0]!.client, ladder[0]!.server]).toEqual(['SYN-SENT', 'SYN-RECEIVED']);
    expect([ladder[2]!.client, ladder[2]!.server]).toEqual(['ESTABLISHED', 'ESTABLISHED']);
    const last = ladder.at(-1)!;
    expect([last.client, last.server].sort()).toEqual(last.client === 'TIME-WAIT' || last.server === 'TIME-WAIT' ? ['CLOSED', 'TIME-WAIT'] : ['CLOSED', 'CLOSED']);
    const third = ladder[2]!.i;
    await page.click(`.ladder .arrow[data-i="${third}"] text`);
    await expect(page.getAttribute('.row.selected', 'data-i')).resolves.toBe(String(third));
    await page.click(`.row[data-i="${ladder[4]!.i}"]`);
    await expect(page.getAttribute('.ladder .arrow.selected', 'data-i')).resolves.toBe(String(ladder[4]!.i));
    await page.check('#proportional');
    await shot(page, '3-ladder-time-in-proportion');
    await page.uncheck('#proportional');
  });

  it('follows the stream and lists the conversations', async () => {
    await page.click('.row[data-i="0"]');
    await page.click('button[data-tab="follow"]');
    const follow = await page.$$eval('.follow pre', (els) => els.map((e) => [e.className, e.textContent!]));
    expect(follow[0]![0]).toBe('c2s');
    expect(follow[0]![1]).toMatch(/^GET \/first HTTP\/1\.1\r\n/);
    expect(follow.some(([cls, text]) => cls === 's2c' && text!.includes('hello from GET /first'))).toBe(true);
    await shot(page, '4-follow');
    await page.click('button[data-tab="conversations"]');
    const tcpRows = await page.$$eval('table.conv[data-kind="tcp"] tr[data-stream]', (rows) => rows.map((r) => r.textContent!));
    expect(tcpRows.length).toBe(3);
    expect(tcpRows.some((r) => r.includes(`127.0.0.1:${closedPort}`))).toBe(true);
    await shot(page, '5-conversations');
    await page.click('table.conv[data-kind="tcp"] tr[data-stream="1"]');
    const first = await page.getAttribute('.row.selected', 'data-i');
    expect(readLines[Number(first)]).toContain('Flags [S]');
    await page.click('button[data-tab="ladder"]');
  });

  it('shows the --explain note beside each TCP packet and above its layers', async () => {
    const explained = (await synack(['read', pcap, '--explain'])).stdout.split('\n');
    const firstNote = explained[1]!.trim();
    await page.click('.row[data-i="0"]');
    const note = (await page.textContent('#note'))!;
    expect(firstNote).toContain(note.replace(/\s+\(client.*$/, '').trim());
    expect(note).toContain('(client SYN-SENT, server SYN-RECEIVED)');
    expect(await page.textContent('.row[data-i="0"] .note')).toMatch(/^client opens: SYN/);
  });

  it('the --html file made no request beyond file://, and allows none (its CSP)', async () => {
    expect(browser.refused).toEqual([]);
    const text = readFileSync(html, 'utf8');
    expect(text).toContain(`content="default-src 'none';`);
    expect(text).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
  });

  it('synack view FILE serves the same page on 127.0.0.1 until Ctrl-C, and leaves nothing listening', async () => {
    // No desktop in the environment: nothing is opened, the address is printed.
    const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    const child = spawn(process.execPath, [BIN, 'view', pcap], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      for (let t = 0; t < 200 && !/\(Ctrl-C stops\)/.test(stdout); t++) await new Promise((r) => setTimeout(r, 50));
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(stdout)?.[0] ?? '';
      expect(stdout).toBe(`synack view: ${url} (Ctrl-C stops)\n`);
      browser.allow(url);
      const p2 = await browser.context.newPage();
      await p2.goto(url);
      await p2.waitForSelector('.row');
      expect([...(await allRows(p2)).values()]).toEqual(readLines);
      await p2.close();
      expect((await fetch(url + 'other')).status).toBe(404);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).toContain('synack view: stopped');
      const refused = await new Promise<boolean>((resolve) => {
        const s = net.connect(Number(new URL(url).port), '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(false)));
        s.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('synack sniff --html writes the live capture as the same view (its list is what synack read prints of the -w file)', async () => {
    const livePort = await freePort();
    const livePcap = join(dir, 'live.pcap');
    const liveHtml = join(dir, 'live.html');
    const server = http.createServer((req, res) => res.writeHead(200, { connection: 'close' }).end('live\n'));
    await new Promise<void>((r) => server.listen(livePort, '127.0.0.1', r));
    try {
      const sniff = spawn(process.execPath, [BIN, 'sniff', '-i', 'lo', '--duration', '3', '-c', '10', '-w', livePcap, '--html', liveHtml, 'tcp', 'port', String(livePort)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      const ended = new Promise<number | null>((r) => sniff.once('exit', r));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        sniff.stderr.on('data', (d: Buffer) => {
          err += String(d);
          if (err.includes('listening on')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      await new Promise<void>((resolve) => {
        const c = spawn('curl', ['-s', '-m', '5', '-o', '/dev/null', `http://127.0.0.1:${livePort}/`], { stdio: 'ignore' });
        c.on('exit', () => resolve());
        c.on('error', () => resolve());
      });
      expect(await ended, err).toBe(0);
      expect(err).toContain(`view written to ${liveHtml}`);
    } finally {
      await new Promise((r) => server.close(r));
    }
    const expected = (await synack(['read', livePcap])).stdout.trimEnd().split('\n');
    // One HTTP exchange: 8 to 10 segments, as the ACKs fall.
    expect(expected.length).toBeGreaterThanOrEqual(7);
    expect(expected.length).toBeLessThanOrEqual(10);
    const live = await browser.context.newPage();
    try {
      await live.goto(`file://${liveHtml}`);
      await live.waitForSelector('.row', { timeout: 10_000 });
      const rows = await allRows(live);
      expect([...rows.keys()].sort((a, b) => a - b).map((i) => rows.get(i))).toEqual(expected);
    } finally {
      await live.close();
    }
  }, 60_000);
});
