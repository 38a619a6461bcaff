// Demo kinds: small long-running tasks that stop when their signal aborts.
export const kinds = {
  'service-monitor': {
    run: (args, ctx) => new Promise((resolve) => {
      const t = setInterval(() => ctx.emit('probe', { host: args.host, ok: true }), 1000);
      ctx.signal.addEventListener('abort', () => { clearInterval(t); resolve(); }, { once: true });
    }),
  },
  crawler: {
    run: (args, ctx) => new Promise((resolve) => {
      let pages = 0;
      const t = setInterval(() => { pages++; }, 250);
      ctx.signal.addEventListener('abort', () => { clearInterval(t); ctx.emit('crawled', { site: args.site, pages }); resolve(); }, { once: true });
    }),
  },
};
