const mods = process.argv.slice(2);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const t = [cpu()];
for (const m of mods) { await import(m); t.push(cpu()); }
console.log(`boot ${t[0].toFixed(0)}  ` + mods.map((m, i) => `${m.replace(/.*\/(.*\/.*)/, '$1')} ${(t[i + 1] - t[i]).toFixed(0)}`).join('  '));
