/**
 * The kernel's view of its own sockets, from `ss -tan`: what a server's socket is doing while
 * a hand-made conversation runs (CLOSE-WAIT, FIN-WAIT-2, TIME-WAIT, LISTEN with its queue).
 */
import { execFileSync } from 'node:child_process';

export interface KernelSocket {
  /** As ss prints it: ESTAB, CLOSE-WAIT, FIN-WAIT-2, TIME-WAIT, LISTEN, SYN-RECV, ... */
  state: string;
  recvQ: number;
  sendQ: number;
  local: string;
  peer: string;
  /** The ss line itself. */
  line: string;
}

/** Every TCP socket (any state) whose local or peer port is `port`. */
export function kernelSockets(port: number): KernelSocket[] {
  const out = execFileSync('ss', ['-tanH'], { encoding: 'utf8' });
  const sockets: KernelSocket[] = [];
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const [state, recvQ, sendQ, local, peer] = f as [string, string, string, string, string];
    const portOf = (a: string): number => Number(a.slice(a.lastIndexOf(':') + 1));
    if (portOf(local) !== port && portOf(peer) !== port) continue;
    sockets.push({ state, recvQ: Number(recvQ), sendQ: Number(sendQ), local, peer, line: line.trim() });
  }
  return sockets;
}

/** The states of the kernel's sockets on `port` (local side), e.g. ['LISTEN', 'CLOSE-WAIT']. */
export function kernelStates(port: number): string[] {
  return kernelSockets(port).filter((s) => s.local.endsWith(`:${port}`)).map((s) => s.state);
}
