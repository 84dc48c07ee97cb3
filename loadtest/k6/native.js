// Click-to-call through the native API: POST /api/v1/calls -> 201 with the call id. Each
// request carries an Idempotency-Key and is sent twice: the repeat gets the same call (the
// smoke counts one call per iteration).
import http from 'k6/http';
import { check, sleep } from 'k6';
import { BASE, BASIC, FROM, TO, PAUSE } from './common.js';
export { options } from './common.js';

export default function () {
  const params = {
    headers: {
      Authorization: BASIC,
      'Content-Type': 'application/json',
      'Idempotency-Key': `k6-${__VU}-${__ITER}-${Date.now()}`,
    },
    tags: { api: 'native' },
  };
  const body = JSON.stringify({ from: FROM, to: [TO], mode: 'caller_first' });
  const r = http.post(`${BASE}/api/v1/calls`, body, params);
  check(r, {
    'status 201': (x) => x.status === 201,
    'call id': (x) => x.status === 201 && typeof x.json('id') === 'string',
  });
  const again = http.post(`${BASE}/api/v1/calls`, body, params);
  check(again, {
    'repeat: the same call': (x) =>
      x.status === 201 && r.status === 201 && x.json('id') === r.json('id'),
  });
  sleep(PAUSE);
}
