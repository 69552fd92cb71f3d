import { build } from 'esbuild';
const mf = process.argv[2] === 'module' ? ['module','main'] : undefined;
const r = await build({ bundle: true, platform: 'node', target: 'node20', format: 'cjs', keepNames: true, minify: true, write: false, metafile: true, mainFields: mf,
  entryPoints: [process.argv[3] ?? 'provider/src/main.ts'], outfile: '/tmp/x.js', define: { __PROVIDER_VERSION__: '"0"' }, logLevel: 'error' });
const inputs = Object.values(r.metafile.outputs)[0].inputs;
const agg = {};
for (const [f, v] of Object.entries(inputs)) { const m = f.match(/node_modules\/((@[^/]+\/)?[^/]+)/); const k = m ? m[1] : f.split('/').slice(0,2).join('/'); agg[k] = (agg[k]||0) + v.bytesInOutput; }
console.log(Object.entries(agg).sort((a,b)=>b[1]-a[1]).slice(0,25).map(([k,v])=>`${(v/1024).toFixed(0).padStart(6)} KB ${k}`).join('\n'));
console.log('total', r.outputFiles[0].contents.length);
