/**
 * A hand-made conversation between two network namespaces (root only): synack runs in A, a
 * Python server in B (198.51.100.2) answers 'get' with '200 ok' and closes at once. The guard
 * lives in A's own nftables and must be gone when the child exits; the namespaces must be
 * gone after the suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createNetnsPair, isRoot, type NetnsPair } from './helpers/netns.js';

const root = isRoot();
if (!root) console.log('tcp-netns.test.ts: skipped, needs root (network namespaces, raw sockets, nftables)');

const SERVER = `
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('198.51.100.2', 8080)); s.listen(8)
print('ready', flush=True)
c, _ = s.accept(); d = c.recv(100); print(d.decode(), flush=True); c.sendall(b'200 ok'); c.close()
import time; time.sleep(5)
`;

describe.skipIf(!root)('TCP by hand between namespaces', () => {
  let pair: NetnsPair | undefined;
  beforeAll(() => {
    pair = createNetnsPair('tcp');
  });
  afterAll(() => {
    pair?.remove();
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`synack-tcp-a-${process.pid}`);
    expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(`synack-tcp-b-${process.pid}`);
  });

  it("handshake, 'get', '200 ok', 3-packet close from A to B; no rule left in A", async () => {
    const p = pair!;
    const server = p.spawn(p.b, ['/usr/bin/python3', '-c', SERVER]);
    let serverOut = '';
    server.stdout!.on('data', (d) => (serverOut += d));
    await new Promise<void>((resolve) => server.stdout!.on('data', () => serverOut.includes('ready') && resolve()));
    const connectTs = new URL('../src/tcp/connect.ts', import.meta.url).pathname;
    const script = `import { connect } from ${JSON.stringify(connectTs)};
const c = await connect({ dst: '198.51.100.2', dport: 8080, timeout: 3000 });
await c.send('get');
const reply = String(await c.recvAll());
await c.close();
const flags = c.trace.map((e) => e.direction + ':' + e.packet.summary().match(/Flags \\[([^\\]]+)\\]/)[1] + ':' + e.state);
console.log(JSON.stringify({ reply, state: c.state, flags }));
process.exit(0);`;
    const out = p.exec(p.a, [process.execPath, '--import', 'tsx', '--input-type=module', '-e', `import '${new URL('../src/index.ts', import.meta.url).pathname}';\n${script}`]);
    const result = JSON.parse(out.trim().split('\n').pop()!) as { reply: string; state: string; flags: string[] };
    expect(result.reply).toBe('200 ok');
    expect(result.state).toBe('CLOSED');
    expect(result.flags.slice(0, 4)).toEqual(['out:S:SYN-SENT', 'in:S.:ESTABLISHED', 'out:.:ESTABLISHED', 'out:P.:ESTABLISHED']);
    expect(result.flags.slice(-3)).toEqual(['in:F.:CLOSE-WAIT', 'out:F.:LAST-ACK', 'in:.:CLOSED']);
    await new Promise((r) => setTimeout(r, 100));
    expect(serverOut).toContain('get');
    // The server closed first: its socket waits in TIME-WAIT inside B.
    expect(p.exec(p.b, ['ss', '-tanH'])).toMatch(/TIME-WAIT\s+0\s+0\s+198\.51\.100\.2:8080/);
    expect(p.exec(p.a, ['nft', 'list', 'tables'])).not.toContain('synack_');
  });
});
