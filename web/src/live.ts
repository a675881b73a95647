// The live channel (Socket.IO, docs/live.md): one socket for the app, the
// subscriptions of the screens shown, the channel's state and each PLC's
// connection as connection_status events and live_data tell.
import { io, Socket } from 'socket.io-client';
import { store } from './store';

export type ChannelState = 'connecting' | 'connected' | 'disconnected';
export const channel = store<{ state: ChannelState; error: string }>({ state: 'connecting', error: '' });
/** machine id -> {connected, error} from connection_status and live_data */
export const plc = store<Record<string, { connected: boolean; error: string }>>({});

/**
 * The channel was lost (a disconnect, a failed connect, reconnecting after
 * one), as against still making its first connection (or the one after a
 * sign-in), which is not worth an alarm.
 */
export const channelLost = (c: { state: ChannelState; error: string }) =>
  c.state === 'disconnected' || (c.state === 'connecting' && !!c.error);

let socket: Socket | null = null;
const subscriptions = new Map<string, number>();

export function getSocket(): Socket {
  if (socket) return socket;
  const s = io({ path: '/socket.io', withCredentials: true, reconnectionDelayMax: 5000,
                 timeout: 8000 });
  socket = s;
  s.on('connect', () => {
    channel.set({ state: 'connected', error: '' });
    for (const m of subscriptions.keys()) s.emit('subscribe', { machine: m });
  });
  s.on('disconnect', (reason) => {
    channel.set({ state: 'disconnected', error: reason === 'io client disconnect' ? '' : reason });
  });
  s.on('connect_error', (e: Error) => {
    channel.set({ state: 'disconnected', error: e.message });
  });
  s.io.on('reconnect_attempt', () => {
    if (channel.get().state !== 'connected')
      channel.set({ state: 'connecting', error: channel.get().error });
  });
  s.on('connection_status', (d: { machine: string; connected: boolean; error?: string }) => {
    plc.update((p) => ({ ...p, [d.machine]: { connected: d.connected, error: d.error || '' } }));
  });
  s.on('live_data', (d: { machine: string; connected: boolean }) => {
    const cur = plc.get()[d.machine];
    if (!cur || cur.connected !== d.connected)
      plc.update((p) => ({ ...p, [d.machine]: { connected: d.connected, error: cur?.error || '' } }));
  });
  return s;
}

/** Reconnect (after a sign-in or sign-out: the cookie is checked at connect). */
export function reconnect() {
  const s = getSocket();
  s.disconnect();
  channel.set({ state: 'connecting', error: '' });
  s.connect();
}

/** Subscribes to a machine's live_data while a screen needs it. */
export function subscribe(machine: string): () => void {
  const s = getSocket();
  const n = subscriptions.get(machine) || 0;
  subscriptions.set(machine, n + 1);
  if (n === 0 && s.connected) s.emit('subscribe', { machine });
  return () => {
    const k = (subscriptions.get(machine) || 1) - 1;
    if (k > 0) subscriptions.set(machine, k);
    else {
      subscriptions.delete(machine);
      if (s.connected) s.emit('unsubscribe', { machine });
    }
  };
}

/** Listens to a live event; returns the function that stops it. */
export function on<T = any>(event: string, fn: (d: T) => void): () => void {
  const s = getSocket();
  s.on(event, fn);
  return () => { s.off(event, fn); };
}
