// Click-to-call through sipXcallController: POST /callcontroller/<from>/<to> as the calling
// party with its web PIN (preemptive Basic, as most sipX dialers send it; the demo tenant's
// PINs are web-<ext>), then the call's status document by the same URL.
import http from 'k6/http';
import encoding from 'k6/encoding';
import { check, sleep } from 'k6';
import { BASE, FROM, TO, PAUSE } from './common.js';
export { options } from './common.js';

const PIN = __ENV.SIPX_PIN || `web-${FROM}`;
const AUTH = { Authorization: 'Basic ' + encoding.b64encode(`${FROM}:${PIN}`) };

export default function () {
  const url = `${BASE}/callcontroller/${FROM}/${TO}?timeout=30`;
  const r = http.post(url, '+', { headers: AUTH, tags: { api: 'sipx_callcontroller' } });
  check(r, {
    'status 200': (x) => x.status === 200,
    'empty body': (x) => x.body === '',
  });
  const s = http.get(url, { headers: AUTH, tags: { api: 'sipx_callcontroller_status' } });
  check(s, {
    'status document': (x) => x.status === 200 && x.body.includes('<status-lines'),
  });
  sleep(PAUSE);
}
