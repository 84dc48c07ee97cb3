// Click-to-call through promptCall: /pbxws.php/dial?ext=&tel=&token=base64(key:secret), then
// the billing read a CRM makes: the last calls' CDRs (cdrapi).
import http from 'k6/http';
import encoding from 'k6/encoding';
import { check, sleep } from 'k6';
import { BASE, FROM, TO, KEY, SECRET, PAUSE } from './common.js';
export { options } from './common.js';

const TOKEN = encoding.b64encode(`${KEY}:${SECRET}`);

export default function () {
  const r = http.get(`${BASE}/pbxws.php/dial?ext=${FROM}&tel=${TO}&token=${TOKEN}`, { tags: { api: 'promptcall' } });
  check(r, {
    'status 200': (x) => x.status === 200,
    'success with uniqueid': (x) => x.status === 200 && x.json('success') === true && typeof x.json('uniqueid') === 'string',
  });
  const c = http.get(`${BASE}/pbxws.php/cdrapi?numRecords=20&token=${TOKEN}`, { tags: { api: 'promptcall_cdrapi' } });
  check(c, {
    'cdrapi': (x) => x.status === 200 && x.json('success') === true && Array.isArray(x.json('value')),
  });
  sleep(PAUSE);
}
