// Shared settings of the click-to-call scripts. Environment:
//   PATCHBAY_URL  gateway base URL (default http://127.0.0.1:8080)
//   FROM, TO      caller and callee extensions of the demo tenant (default 4005, 4007)
//   VUS, DURATION load shape (default 2 virtual users for 10s: the CI smoke)
//   PAUSE         seconds each virtual user waits between calls (default 0.5)
import encoding from 'k6/encoding';

export const BASE = __ENV.PATCHBAY_URL || 'http://127.0.0.1:8080';
export const FROM = __ENV.FROM || '4005';
export const TO = __ENV.TO || '4007';
export const PAUSE = Number(__ENV.PAUSE || '0.5');
// The demo tenant's API key and secret (README); promptCall and the native API accept them.
export const KEY = __ENV.API_KEY || 'demo-key';
export const SECRET = __ENV.API_SECRET || 'demo-secret';
export const BASIC = 'Basic ' + encoding.b64encode(`${KEY}:${SECRET}`);

export const options = {
  vus: Number(__ENV.VUS || '2'),
  duration: __ENV.DURATION || '10s',
  thresholds: {
    // Every click-to-call is accepted with the vendor's success form...
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    // ...and answered quickly (the call itself rings on afterwards).
    http_req_duration: ['p(95)<500'],
  },
};
