// ${{ values.name }}: a service released through Release Pilot.
const http = require('node:http');

http
  .createServer((_req, res) => res.end('ok'))
  .listen(process.env.PORT ?? 8080);
