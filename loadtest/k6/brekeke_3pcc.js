// Click-to-call through Brekeke's HTTP 3PCC: GET /pbx/3pcc -> "succeeded: <ID>".
// Access is by the tenant's 3PCC client IP pattern (the demo tenant allows 127.0.0.1).
import http from 'k6/http';
import { check, sleep } from 'k6';
import { BASE, FROM, TO, PAUSE } from './common.js';
export { options } from './common.js';

export default function () {
  const r = http.get(`${BASE}/pbx/3pcc?to=${TO}&from=${FROM}&type=2`, { tags: { api: 'brekeke_3pcc' } });
  check(r, {
    'status 200': (x) => x.status === 200,
    'succeeded: <ID>': (x) => /^succeeded: \S+$/.test(x.body),
  });
  sleep(PAUSE);
}
