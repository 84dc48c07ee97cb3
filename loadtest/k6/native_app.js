// Application calls through the native API: POST /api/v1/calls with "app": true rings TO and
// holds the answered call in the media engine; once the event feed says "answered", a beep is
// played into it (POST /calls/{id}/tone -> 202; 409 only if the phone already hung up), 300 ms
// of the phone are recorded (POST /calls/{id}/record), and once the feed says
// "recording_ready" the WAV's header is fetched by byte range (GET /recordings/{id} -> 206);
// then the call joins a conference room of the virtual user's (POST /calls/{id}/conference)
// and the room's member list is read (GET /conferences/{room}); the tenant's feed is read once
// per iteration (GET /events, no wait).
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
      const rec = http.post(`${BASE}/api/v1/calls/${id}/record`, JSON.stringify({ max_ms: 300 }), {
        headers: HEADERS,
        tags: { api: 'native_app_record' },
        responseCallback: http.expectedStatuses(202, 409),
      });
      check(rec, { 'record accepted (or the call already over)': (x) => x.status === 202 || x.status === 409 });
      if (rec.status === 202) {
        const command = rec.json('command');
        let recording = null;
        for (let i = 0; i < 10 && recording === null; i++) {
          const e = http.get(`${BASE}/api/v1/calls/${id}/events?after=${after}&wait_ms=1000`, {
            headers: HEADERS,
            tags: { api: 'native_app_events' },
          });
          for (const ev of e.json() || []) {
            after = ev.seq;
            if (ev.type === 'recording_ready' && ev.command === command) recording = ev.recording;
          }
        }
        check(recording, { 'recording ready': (x) => x !== null });
        if (recording !== null) {
          const f = http.get(`${BASE}/api/v1/recordings/${recording}`, {
            headers: { Authorization: BASIC, Range: 'bytes=0-43' },
            tags: { api: 'native_recording' },
          });
          check(f, {
            'WAV header by range': (x) => x.status === 206 && x.body.length === 44 && x.body.startsWith('RIFF'),
          });
        }
      }
      const room = `k6-${__VU}`;
      const j = http.post(`${BASE}/api/v1/calls/${id}/conference`, JSON.stringify({ room }), {
        headers: HEADERS,
        tags: { api: 'native_app_conference' },
        responseCallback: http.expectedStatuses(202, 404, 409),
      });
      check(j, { 'conference join accepted (or the call already over)': (x) => [202, 404, 409].includes(x.status) });
      const m = http.get(`${BASE}/api/v1/conferences/${room}`, { headers: HEADERS, tags: { api: 'native_conference' } });
      check(m, { 'room listed': (x) => x.status === 200 && Array.isArray(x.json('members')) });
    }
  }
  const feed = http.get(`${BASE}/api/v1/events?after=0&wait_ms=0`, { headers: HEADERS, tags: { api: 'native_events' } });
  check(feed, { 'tenant feed': (x) => x.status === 200 && Array.isArray(x.json()) });
  sleep(PAUSE);
}
