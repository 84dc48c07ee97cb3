// Click-to-call through sipXconfig REST as dialers do it: PUT /sipxconfig/rest/my/call/<to>
// (preemptive Basic, the calling user and its web PIN, a body of `+`), then the reads a
// dialer's address book and settings pane make: GET /my/phonebook and GET /my/forward.
import http from 'k6/http';
import encoding from 'k6/encoding';
import { check, sleep } from 'k6';
import { BASE, FROM, TO, PAUSE } from './common.js';
export { options } from './common.js';

const PIN = __ENV.SIPX_PIN || `web-${FROM}`;
const AUTH = { Authorization: 'Basic ' + encoding.b64encode(`${FROM}:${PIN}`) };
const REST = `${BASE}/sipxconfig/rest`;

export default function () {
  const r = http.put(`${REST}/my/call/${TO}`, '+', { headers: AUTH, tags: { api: 'sipx_rest' } });
  check(r, {
    'status 200': (x) => x.status === 200,
    'empty body': (x) => x.body === '',
  });
  const pb = http.get(`${REST}/my/phonebook`, { headers: AUTH, tags: { api: 'sipx_rest_read' } });
  check(pb, { 'phonebook': (x) => x.status === 200 && x.body.startsWith('<phonebook') });
  const fw = http.get(`${REST}/my/forward`, { headers: AUTH, tags: { api: 'sipx_rest_read' } });
  check(fw, { 'call sequence': (x) => x.status === 200 && x.body.startsWith('<call-sequence>') });
  sleep(PAUSE);
}
