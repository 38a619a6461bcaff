// The demo's kinds, shared by the Node members and the tabs (a tab imports this module in its
// Supervisor's worker). A ticker counts once a second until it is stopped.
export const kinds = {
  ticker: {
    run: (args, ctx) => new Promise((resolve) => {
      let n = 0;
      const timer = setInterval(() => ctx.emit('tick', { n: ++n }), 1000);
      ctx.signal.addEventListener('abort', () => { clearInterval(timer); resolve(); }, { once: true });
    }),
  },
};
