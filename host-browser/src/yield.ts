// The yield between slices of a long batch, for the Supervisor's `yieldTask`. Browsers clamp
// setTimeout(0) to 1 s or more in hidden pages; a MessageChannel message is a new task that is
// never clamped, so a busy tab still lets its sockets and heartbeats in between slices.

/** A `yieldTask` that runs each function in its own later task, in order. */
export function messageChannelYield(): (fn: () => void) => void {
  const channel = new MessageChannel();
  const queue: (() => void)[] = [];
  channel.port1.onmessage = () => { queue.shift()?.(); };
  return (fn) => {
    queue.push(fn);
    channel.port2.postMessage(0);
  };
}
