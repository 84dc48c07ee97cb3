// Click-to-call through Ozeki's HTTP API as the vendor's samples send it: POST / with
// Command=Call, no credentials (the demo tenant takes Ozeki commands from 127.0.0.1), and the
// OzML to run when the callee answers (Ozeki 10's ResponseOzML): TO rings, answers, hears it.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { TO, PAUSE } from './common.js';
export { options } from './common.js';

const OZEKI = __ENV.OZEKI_URL || 'http://127.0.0.1:7780';
const OZML = '<Response><Speak>Hello from Patchbay.</Speak></Response>';

export default function () {
  const r = http.post(`${OZEKI}/`, { Command: 'Call', Dialed: TO, ResponseOzML: OZML }, {
    tags: { api: 'ozeki' },
  });
  check(r, {
    'status 200': (x) => x.status === 200,
    'code 200': (x) => x.body.includes('<Code>200</Code>'),
  });
  sleep(PAUSE);
}
