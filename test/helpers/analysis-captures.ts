/**
 * Captures of real traffic that shows every TCP analysis flag, made inside two namespaces
 * joined by a veth pair (198.51.100.1 = client side, where tcpdump listens; .2 = servers):
 *   port 9001  300 kB through loss: nft drops every 25th segment on the server's input, after the
 *              capture point (retransmissions, dup ACKs, fast retransmissions)
 *   port 9006  200 kB without loss, of which the capture filter misses a few segments that
 *              did arrive ("previous segment not captured", "ACKed unseen segment"); kept
 *              apart from the loss, where tshark 4.0's ACKed-unseen bookkeeping has a case
 *              the analyzer does not reproduce (see sequence.ts)
 *   port 9002  a receiver that stops reading for 1.2 s with a small buffer: zero window,
 *              window full, zero-window probes and their ACKs, then the window update
 *   port 9003  keep-alive a second after idle, then every second (TCP_KEEPIDLE/INTVL on the client socket): keep-alives
 *              and their ACKs
 *   port 9004  the same client port twice over IPv6 (the first closed by RST, SO_LINGER 0):
 *              port reuse
 *   port 9005  a few UDP datagrams over IPv4 and IPv6 (for the conversation tables)
 * Python 3 (/usr/bin/python3) drives both ends; every socket has a timeout, every loop a bound.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createNetnsPair, type NetnsPair } from './netns.js';

const SERVER = String.raw`
import socket, threading, time, sys
def serve(port, handler, rcvbuf=None, host='198.51.100.2'):
    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf: s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((host, port)); s.listen(8); s.settimeout(15)
    def loop():
        for _ in range(4):
            try: c, _a = s.accept()
            except Exception: return
            c.settimeout(15)
            threading.Thread(target=handler, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
def sink(c):
    try:
        while c.recv(65536): pass
    except Exception: pass
    c.close()
def slow(c):
    time.sleep(1.2)
    sink(c)
def hold(c):
    sink(c)
serve(9001, sink); serve(9006, sink); serve(9002, slow, 4096); serve(9003, hold); serve(9004, sink, host='2001:db8::2')
udp = [socket.socket(f, socket.SOCK_DGRAM) for f in (socket.AF_INET, socket.AF_INET6)]
udp[0].bind(('198.51.100.2', 9005)); udp[1].bind(('2001:db8::2', 9005))
print('ready', flush=True)
time.sleep(14)
`;

const CLIENT = String.raw`
import socket, struct, threading, time
def send(port, n):
    c = socket.create_connection(('198.51.100.2', port), timeout=15)
    c.sendall(b'x' * n); c.shutdown(socket.SHUT_WR)
    c.recv(10); c.close()
def keepalive():
    c = socket.socket(); c.settimeout(15)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    c.connect(('198.51.100.2', 9003)); c.sendall(b'hello')
    time.sleep(2.6); c.close()
def reuse():
    for linger in (True, False):
        c = socket.socket(socket.AF_INET6); c.settimeout(15)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if linger: c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        c.bind(('2001:db8::1', 40404)); c.connect(('2001:db8::2', 9004))
        c.sendall(b'ping'); time.sleep(0.1); c.close(); time.sleep(0.1)
def datagrams():
    for host, n in (('198.51.100.2', 3), ('2001:db8::2', 2)):
        u = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
        for i in range(n): u.sendto(b'datagram %d' % i, (host, 9005))
        u.close()
ts = [threading.Thread(target=f) for f in (lambda: send(9001, 300000), lambda: send(9006, 200000), lambda: send(9002, 200000), keepalive, reuse, datagrams)]
for t in ts: t.start()
for t in ts: t.join(20)
print('done', flush=True)
`;

/**
 * The capture misses about one data segment in 32 toward port 9006 (picked by bits 8-12 of
 * its sequence number): the server still gets and acknowledges them, as when a capture drops.
 */
const MISSED = 'udp or (tcp and not (tcp dst port 9006 and tcp[6] & 0x1f == 3 and greater 200))';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Makes the capture at `file`; returns after the traffic and tcpdump ended. */
export async function captureFlagTraffic(file: string): Promise<void> {
  const pair: NetnsPair = createNetnsPair('an');
  try {
    const nft = (ns: string, rules: string): void => {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`nft in ${ns}: ${r.stderr}`);
    };
    // One segment per packet on the wire (veth would pass 64 kB GSO packets through whole),
    // so that loss hits segments. The loss is a fixed pattern (every 25th full segment, 4%), not
    // numgen random: a run without a fast retransmission would leave that flag unshown.
    for (const [ns, dev] of [[pair.a, 'veth-sa'], [pair.b, 'veth-sb']] as const) {
      spawnSync('ip', ['-n', ns, 'link', 'set', 'dev', dev, 'gso_max_segs', '1', 'gso_max_size', '1500']);
    }
    nft(pair.b, 'table inet synack_loss {\n chain in {\n type filter hook input priority 0; policy accept;\n tcp dport 9001 meta length > 200 numgen inc mod 25 == 7 drop\n }\n}\n');
    const dump = spawn('ip', ['netns', 'exec', pair.a, 'tcpdump', '-i', 'veth-sa', '-U', '-w', file, MISSED], { stdio: ['ignore', 'ignore', 'pipe'] });
    let started = false;
    dump.stderr.on('data', (d: Buffer) => {
      if (/listening on/.test(String(d))) started = true;
    });
    for (let i = 0; i < 100 && !started; i++) await sleep(20);
    const server = pair.spawn(pair.b, ['/usr/bin/python3', '-c', SERVER]);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('servers did not start')), 5000);
      server.stdout!.on('data', (d: Buffer) => {
        if (/ready/.test(String(d))) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const client = pair.spawn(pair.a, ['/usr/bin/python3', '-c', CLIENT]);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('client did not finish')), 25_000);
      client.on('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    await sleep(300);
    dump.kill('SIGINT');
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 3000);
      dump.on('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    server.kill('SIGTERM');
  } finally {
    pair.remove();
  }
}
