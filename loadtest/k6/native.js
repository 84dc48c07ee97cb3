// Click-to-call through the native API: POST /api/v1/calls -> 201 with the call id.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { BASE, BASIC, FROM, TO, PAUSE } from './common.js';
export { options } from './common.js';

export default function () {
  const r = http.post(
    `${BASE}/api/v1/calls`,
    JSON.stringify({ from: FROM, to: [TO], mode: 'caller_first' }),
    { headers: { Authorization: BASIC, 'Content-Type': 'application/json' }, tags: { api: 'native' } },
  );
  check(r, {
    'status 201': (x) => x.status === 201,
    'call id': (x) => x.status === 201 && typeof x.json('id') === 'string',
  });
  sleep(PAUSE);
}
