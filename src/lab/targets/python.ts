/**
 * The targets Node cannot be: it has no socket that is bound but not listening, and it always
 * accepts (libuv drains the accept queue by itself). Python's socket module does exactly what
 * it is told, so these two run as small Python programs. Same protocol as target.ts: `ready`
 * once set up, then they sleep until killed.
 */
const PRELUDE = `
import socket, sys, time, signal
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
signal.signal(signal.SIGINT, lambda *a: sys.exit(0))
port = int(sys.argv[1])
addr = sys.argv[2] if len(sys.argv) > 2 else '::'
s = socket.socket(socket.AF_INET6 if ':' in addr else socket.AF_INET, socket.SOCK_STREAM)
if addr == '::': s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
`;

export const PYTHON_TARGETS: Record<string, string> = {
  // Bound, never listening: a SYN to it gets a RST, like a closed port, yet the port is taken.
  bound: `${PRELUDE}
print('ready bound %d' % port, flush=True)
while True: time.sleep(3600)
`,
  // Backlog 1 and never accept(): the queue fills after one or two connections.
  backlog1: `${PRELUDE}
s.listen(1)
print('ready backlog1 %d' % port, flush=True)
while True: time.sleep(3600)
`,
};
