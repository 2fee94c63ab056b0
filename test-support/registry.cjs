'use strict';
// A loopback npm registry for the install tests (pkg-test/): it serves the packuments and
// tarballs of the packed .tgz files it is given, answers 404 to everything else, and
// records every request, so a test can install with npm, bun, pnpm, yarn or deno the way a
// user does (`npm install asherah-shim`, `bun add asherah-shim`, `npm:asherah-shim`) and
// see what each client asked for. Packuments carry the package.json of the tarball, its sha512 integrity
// and its sha1, which every client checks.
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

/** The package.json inside a packed tarball. */
function manifestOf(tgz) {
  const r = spawnSync('tar', ['-xzOf', tgz, 'package/package.json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot read package/package.json from ${tgz}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Serves `tarballs` on 127.0.0.1 and an ephemeral port in this process, appending each
 *  request path as a line to `logFile`; resolves to the server and its base URL. */
async function serve(tarballs, logFile) {
  const packages = new Map(); // name -> { manifest, bytes, file, integrity, shasum }
  for (const tgz of tarballs) {
    const manifest = manifestOf(tgz);
    const bytes = fs.readFileSync(tgz);
    packages.set(manifest.name, {
      manifest,
      bytes,
      file: `${manifest.name}-${manifest.version}.tgz`,
      integrity: `sha512-${crypto.createHash('sha512').update(bytes).digest('base64')}`,
      shasum: crypto.createHash('sha1').update(bytes).digest('hex'),
    });
  }
  const published = new Date().toISOString(); // clients that gate on a version's age see it as new
  let base = '';
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    fs.appendFileSync(logFile, `${url}\n`);
    const [, name, dash, file] = url.split('/');
    const pkg = packages.get(name);
    if (pkg && dash === undefined) {
      const { manifest, integrity, shasum } = pkg;
      const version = {
        ...manifest,
        _id: `${manifest.name}@${manifest.version}`,
        dist: { tarball: `${base}${manifest.name}/-/${pkg.file}`, integrity, shasum },
      };
      const body = JSON.stringify({
        name: manifest.name,
        'dist-tags': { latest: manifest.version },
        versions: { [manifest.version]: version },
        time: { created: published, modified: published, [manifest.version]: published },
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else if (pkg && dash === '-' && file === pkg.file) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': pkg.bytes.length }).end(pkg.bytes);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}/`;
  return { server, url: base };
}

/** Starts the registry in a child Node process (the tests drive package managers with
 *  spawnSync, which would block a server on their own event loop); resolves to
 *  `{ url, asked, close() }`. `asked` lists the request paths so far, in order. The child
 *  exits when its stdin closes, so it never outlives the test process. */
async function startRegistry(tarballs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asherah-shim-registry-log-'));
  const logFile = path.join(dir, 'requests.log');
  fs.writeFileSync(logFile, '');
  const child = spawn(process.execPath, [__filename, logFile, ...tarballs], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = /^LISTENING (\S+)$/m.exec(out);
      if (line) resolve(line[1]);
    });
    child.once('exit', (code, signal) => reject(new Error(`registry exited ${code ?? signal} before listening`)));
  });
  return {
    url,
    get asked() { return fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean); },
    close: () => new Promise((resolve) => {
      child.once('exit', () => { fs.rmSync(dir, { recursive: true, force: true }); resolve(); });
      child.stdin.end();
    }),
  };
}

if (require.main === module) {
  const [logFile, ...tarballs] = process.argv.slice(2);
  serve(tarballs, logFile).then(({ server, url }) => {
    process.stdout.write(`LISTENING ${url}\n`);
    process.stdin.resume();
    process.stdin.on('end', () => server.close(() => process.exit(0)));
  });
}

module.exports = { startRegistry };
