/**
 * The two native addons, loaded lazily (so that synack loads, and dissects, on machines where
 * they did not build) and typed by hand: neither ships type definitions.
 */
import { createRequire } from 'node:module';
import { SynackError } from '../wire/errors.js';

/** raw-socket 1.8.1's native handle: send() here is one synchronous sendto. */
export interface RawSocketWrap {
  send(buffer: Buffer, offset: number, length: number, address: string, callback: (bytes: number) => void): void;
  setOption(level: number, option: number, value: number): void;
  close(): void;
}

export interface RawSocket {
  wrap: RawSocketWrap | undefined;
  send(buffer: Buffer, offset: number, length: number, address: string, callback: (error: Error | null, bytes: number) => void): void;
  setOption(level: number, option: number, value: number): void;
  setOption(level: number, option: number, value: Buffer, length: number): void;
  pauseRecv(): RawSocket;
  pauseSend(): RawSocket;
  close(): RawSocket;
  on(event: 'error', listener: (error?: Error) => void): RawSocket;
  on(event: 'close', listener: () => void): RawSocket;
  on(event: string, listener: (...args: unknown[]) => void): RawSocket;
  removeAllListeners(event?: string): RawSocket;
}

export interface RawSocketModule {
  createSocket(options: { protocol: number; addressFamily?: number; bufferSize?: number }): RawSocket;
  AddressFamily: { IPv4: number; IPv6: number };
}

/** cap 0.2.1's capture handle. */
export interface CapHandle {
  open(device: string, filter: string, bufferSize: number, buffer: Buffer): string;
  close(): void;
  send(buffer: Buffer, length?: number): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): CapHandle;
  removeAllListeners(event?: string): CapHandle;
}

export interface CapModule {
  Cap: { new (): CapHandle; deviceList(): Array<{ name: string; addresses: Array<{ addr: string }> }> };
}

const require = createRequire(import.meta.url);
let rawModule: RawSocketModule | undefined;
let capModule: CapModule | undefined;

function load<T>(name: string): T {
  try {
    return require(name) as T;
  } catch (err) {
    throw new SynackError(
      `the native addon '${name}' is not available (${(err as Error).message.split('\n')[0]}): ` +
        `reinstall with its build allowed (npm rebuild ${name}; cap also needs libpcap-dev)`,
      'system',
    );
  }
}

export function rawSocketAddon(): RawSocketModule {
  return (rawModule ??= load<RawSocketModule>('raw-socket'));
}

export function capAddon(): CapModule {
  return (capModule ??= load<CapModule>('cap'));
}
