// Click-to-call through Taridium's End-User URL Control: /user/c/?key=<url key>&call=<number>.
// The demo tenant's URL key of 4005 is DEMO05 (README).
import http from 'k6/http';
import { check, sleep } from 'k6';
import { BASE, TO, PAUSE } from './common.js';
export { options } from './common.js';

const KEY = __ENV.URL_KEY || 'DEMO05';

export default function () {
  const r = http.get(`${BASE}/user/c/?key=${KEY}&call=${TO}`, { tags: { api: 'taridium' } });
  check(r, {
    'status 200': (x) => x.status === 200,
    'OK: CALL PLACED': (x) => x.body === 'OK: CALL PLACED',
  });
  sleep(PAUSE);
}
