// A Slack-style incoming webhook for the browser tests: keeps every POST to
// /hook and lists them at GET /calls.
//   node end2end/webhook-receiver.mjs PORT
import http from 'node:http';

const port = Number(process.argv[2] ?? 3103);
const calls = [];

http
  .createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/hook') {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
        if (body.length > 1_000_000) req.destroy();
      });
      req.on('end', () => {
        let json = null;
        try {
          json = JSON.parse(body);
        } catch {
          json = null;
        }
        calls.push({ at: new Date().toISOString(), idempotencyKey: req.headers['idempotency-key'] ?? '', body: json });
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      });
      return;
    }
    if (req.method === 'GET' && req.url === '/calls') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(calls));
      return;
    }
    res.writeHead(404);
    res.end();
  })
  .listen(port, '127.0.0.1', () => console.log(`webhook receiver on 127.0.0.1:${port}`));
