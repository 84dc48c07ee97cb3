// Application calls through the native API: POST /api/v1/calls with "app": true rings TO and
// holds the answered call in the media engine; once the event feed says "answered", a beep is
// played into it (POST /calls/{id}/tone -> 202; 409 only if the phone already hung up).
import http from 'k6/http';
import { check, sleep } from 'k6';
import { BASE, BASIC, TO, PAUSE } from './common.js';
export { options } from './common.js';

const HEADERS = { Authorization: BASIC, 'Content-Type': 'application/json' };

export default function () {
  const r = http.post(`${BASE}/api/v1/calls`, JSON.stringify({ to: [TO], app: true }), {
    headers: HEADERS,
    tags: { api: 'native_app' },
  });
  const created = check(r, {
    'status 201': (x) => x.status === 201,
    'application call': (x) => x.status === 201 && x.json('app') === true,
  });
  if (created) {
    const id = r.json('id');
    let after = 0;
    let answered = false;
    for (let i = 0; i < 10 && !answered; i++) {
      const e = http.get(`${BASE}/api/v1/calls/${id}/events?after=${after}&wait_ms=1000`, {
        headers: HEADERS,
        tags: { api: 'native_app_events' },
      });
      for (const ev of e.json() || []) {
        after = ev.seq;
        if (ev.type === 'answered') answered = true;
        if (ev.type === 'ended') i = 10;
      }
    }
    if (answered) {
      const t = http.post(`${BASE}/api/v1/calls/${id}/tone`, JSON.stringify({ tone: 'beep' }), {
        headers: HEADERS,
        tags: { api: 'native_app_tone' },
        responseCallback: http.expectedStatuses(202, 409),
      });
      check(t, { 'tone accepted (or the call already over)': (x) => x.status === 202 || x.status === 409 });
    }
  }
  sleep(PAUSE);
}
