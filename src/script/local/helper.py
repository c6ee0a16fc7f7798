#!/usr/bin/python3
# synack's local-mode helper: the system-call side of `synack script FILE --local`.
#
# Why a helper process, and why Python: Node's net module cannot make the calls packetdrill's
# scripts make (setsockopt/getsockopt with any level and option, fcntl O_NONBLOCK, a blocking
# accept, the exact errno of a failed call), and Node itself cannot enter a network namespace.
# Python 3's socket module (/usr/bin/python3, on every Debian install and CI image) makes each
# call as one system call on a raw file descriptor and reports errno as the kernel set it; it
# needs nothing compiled. A C helper would do the same and be built on each machine first.
#
# What it does: unshare(CLONE_NEWNET), so the namespace is this process's and dies with it
# (nothing to remove after a crash or SIGKILL); a veth pair inside it, 'tun0' (the kernel's
# side, named as packetdrill's tun device so its defaults.sh runs unchanged) holding
# 198.51.100.1 and 2001:db8::1, and 'peer0' (the remote side, no addresses) where packets are
# read and written with an AF_PACKET socket; static neighbours, so no ARP or NDP is needed.
# Commands arrive on stdin, one JSON object a line; replies and packets leave on stdout, one
# JSON object a line. Numbers only: synack resolves every symbol (SOL_SOCKET, EINPROGRESS).
# System calls run on one thread in order, as packetdrill's syscall thread; packets and shell
# lines do not wait behind a blocking call.
import base64
import ctypes
import fcntl
import json
import os
import queue
import select
import signal
import socket
import struct
import shutil
import subprocess
import sys
import threading
import time

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
KERNEL_MAC = bytes.fromhex('020000000001')
PEER_MAC = bytes.fromhex('020000000002')
LOCAL4, REMOTE4 = '198.51.100.1', '198.51.100.2'
LOCAL6, REMOTE6 = '2001:db8::1', '2001:db8::2'

out_lock = threading.Lock()
sockets = {}  # live fd -> socket object (kept so Python does not close it)


def emit(obj):
    line = json.dumps(obj, separators=(',', ':')) + '\n'
    with out_lock:
        sys.stdout.write(line)
        sys.stdout.flush()


def ip_batch(lines):
    r = subprocess.run(['ip', '-batch', '-'], input='\n'.join(lines) + '\n', capture_output=True, text=True)
    if r.returncode != 0:
        raise OSError('ip: ' + r.stderr.strip())


def on_term(signum, frame):
    kill_namespace_processes()
    os._exit(128 + signum)


def make_namespace():
    libc = ctypes.CDLL(None, use_errno=True)
    # Our parent gone (even by SIGKILL): SIGTERM, and we go too (what shell lines left running
    # first), and the namespace with us.
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'unshare(CLONE_NEWNET): ' + os.strerror(ctypes.get_errno()))
    # The kernel's packets are sized by the route (MTU 1500, so it advertises mss 1460 as
    # on packetdrill's tun0); the devices' MTU is the largest, because a veth drops a frame
    # longer than its MTU where packetdrill's tun takes a script's 2000-byte segment whole.
    # TSO stays on, as packetdrill turns it on for its tun0 (TUNSETOFFLOAD): the kernel's
    # GSO packets reach peer0 whole, and '>' lines join what arrives in pieces.
    # One `ip` run for the lot. peer0 gets no IPv6 address (addrgenmode none): it sends no
    # router or neighbour solicitations, and holds no address that could answer anything.
    ip_batch([
        'link set lo up',
        'link add tun0 address 02:00:00:00:00:01 type veth peer name peer0 address 02:00:00:00:00:02',
        'link set peer0 addrgenmode none',
        'link set peer0 mtu 65535 up',
        'link set tun0 mtu 65535 up',
        'addr add %s/24 dev tun0 noprefixroute' % LOCAL4,
        'addr add %s/64 dev tun0 nodad noprefixroute' % LOCAL6,
        'route add 198.51.100.0/24 dev tun0 src %s mtu 1500' % LOCAL4,
        'route add 2001:db8::/64 dev tun0 mtu 1500',
        'neigh add %s lladdr 02:00:00:00:00:02 dev tun0 nud permanent' % REMOTE4,
        'neigh add %s lladdr 02:00:00:00:00:02 dev tun0 nud permanent' % REMOTE6,
    ])
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    raw.bind(('peer0', 0))
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    return raw


def read_packets(raw):
    while True:
        try:
            data, addr = raw.recvfrom(262144)
        except OSError:
            return
        if addr[2] == socket.PACKET_OUTGOING or len(data) < 14:
            continue
        ethertype = struct.unpack('!H', data[12:14])[0]
        if ethertype not in (0x0800, 0x86DD):
            continue
        emit({'pkt': base64.b64encode(data[14:]).decode()})


def send_packet(raw, b64):
    ip = base64.b64decode(b64)
    ethertype = 0x86DD if ip[0] >> 4 == 6 else 0x0800
    raw.send(KERNEL_MAC + PEER_MAC + struct.pack('!H', ethertype) + ip)


def sock_of(fd):
    s = sockets.get(fd)
    if s is None:
        raise OSError(9, 'Bad file descriptor')
    return s


def address(c):
    return (c['host'], c['port'], 0, 0) if ':' in c['host'] else (c['host'], c['port'])


def optval(v):
    # Unsigned when it does not fit a signed int ([0xffffffff] for TCP_NOTSENT_LOWAT).
    if 'int' in v:
        return struct.pack('I', v['int'] & 0xffffffff)
    if 'ints' in v:
        return struct.pack('%dI' % len(v['ints']), *[x & 0xffffffff for x in v['ints']])
    return base64.b64decode(v['bytes'])


def call(c):
    """One system call; returns (result, extra fields). Raises OSError with the kernel's errno."""
    op = c['op']
    if op == 'socket':
        s = socket.socket(c['family'], c['type'], c['proto'])
        sockets[s.fileno()] = s
        return s.fileno(), {}
    if op == 'close':
        s = sockets.pop(c['fd'], None)
        if s is None:
            os.close(c['fd'])
        else:
            s.close()
        return 0, {}
    if op == 'poll':
        p = select.poll()
        for fd, events in c['fds']:
            p.register(fd, events)
        ready = p.poll(c['timeout'])
        return len(ready), {'revents': [[fd, ev] for fd, ev in ready]}
    s = sock_of(c['fd'])
    if op == 'bind':
        s.bind(address(c['addr']))
        return 0, {}
    if op == 'listen':
        s.listen(c['backlog'])
        return 0, {}
    if op == 'accept':
        conn, _ = s.accept()
        sockets[conn.fileno()] = conn
        return conn.fileno(), {}
    if op == 'connect':
        err = s.connect_ex(address(c['addr']))
        if err:
            raise OSError(err, os.strerror(err))
        return 0, {}
    if op in ('read', 'recv', 'recvfrom'):
        data = s.recv(c['len'], c.get('flags', 0))
        return len(data), {'data': base64.b64encode(data).decode()}
    if op in ('write', 'send', 'sendto'):
        data = base64.b64decode(c['data'])
        if op == 'sendto' and 'addr' in c:
            n = s.sendto(data, c.get('flags', 0), address(c['addr']))
        else:
            n = s.send(data, c.get('flags', 0))
        return n, {}
    if op == 'shutdown':
        s.shutdown(c['how'])
        return 0, {}
    if op == 'setsockopt':
        s.setsockopt(c['level'], c['name'], optval(c['value']))
        return 0, {}
    if op == 'getsockopt':
        raw = s.getsockopt(c['level'], c['name'], c['len'])
        return 0, {'bytes': base64.b64encode(raw).decode()}
    if op == 'fcntl':
        r = fcntl.fcntl(c['fd'], c['cmd'], c.get('arg', 0))
        return r, {}
    raise OSError(38, 'not implemented by the helper: ' + op)


def syscall_thread(q):
    while True:
        c = q.get()
        if c is None:
            return
        start = time.monotonic()
        try:
            result, extra = call(c)
            reply = {'id': c['id'], 'ret': result, 'errno': 0}
            reply.update(extra)
        except OSError as e:
            reply = {'id': c['id'], 'ret': -1, 'errno': e.errno or 0}
        except Exception as e:  # a bad command is ours: say so, do not die
            reply = {'id': c['id'], 'ret': -1, 'errno': 0, 'error': repr(e)}
        reply['took'] = time.monotonic() - start
        emit(reply)


# packetdrill's scripts are written for bash (`&> /dev/null`, which dash reads as `&` then a
# redirect, so a `||` after it never runs): bash when present, as on the machines they come from.
SHELL = shutil.which('bash') or '/bin/sh'


def shell(c):
    try:
        r = subprocess.run(c['cmd'], shell=True, executable=SHELL, cwd=c.get('cwd') or None, capture_output=True, timeout=c.get('timeout', 30),
                           env=dict(os.environ, **c.get('env', {})))
        emit({'id': c['id'], 'status': r.returncode, 'stderr': r.stderr.decode(errors='replace')[-2000:]})
    except subprocess.TimeoutExpired:
        emit({'id': c['id'], 'status': -1, 'stderr': 'timed out'})


def main():
    t0 = time.monotonic()
    try:
        raw = make_namespace()
    except OSError as e:
        emit({'fatal': str(e)})
        return 1
    made = time.monotonic() - t0
    threading.Thread(target=read_packets, args=(raw,), daemon=True).start()
    q = queue.Queue()
    threading.Thread(target=syscall_thread, args=(q,), daemon=True).start()
    emit({'ready': {'made': made, 'pid': os.getpid()}})
    for line in sys.stdin:
        c = json.loads(line)
        op = c.get('op')
        if op == 'packet':
            try:
                send_packet(raw, c['pkt'])
            except OSError as e:
                emit({'sendError': str(e)})
        elif op == 'shell':
            threading.Thread(target=shell, args=(c,), daemon=True).start()
        elif op == 'exit':
            break
        else:
            q.put(c)
    # stdin closed or exit asked: what shell lines left running in the namespace goes first
    # (a process still inside would keep it alive), then this process, and the namespace with it.
    kill_namespace_processes()
    return 0


def kill_namespace_processes():
    ours = os.readlink('/proc/self/ns/net')
    me = os.getpid()
    for pid in os.listdir('/proc'):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            if os.readlink('/proc/%s/ns/net' % pid) == ours:
                os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass


if __name__ == '__main__':
    try:
        code = main()
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    os._exit(code)
