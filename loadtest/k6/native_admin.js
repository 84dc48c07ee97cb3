// An operator's and an integration's reads through the native API: CDRs (billing scripts),
// the calls list (wallboards) and a tenant's settings (onboarding tools). Every reply 200.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { BASE, BASIC, PAUSE } from './common.js';
export { options } from './common.js';

const TENANT = __ENV.TENANT || 'demo';

export default function () {
  const params = { headers: { Authorization: BASIC }, tags: { api: 'native_admin' } };
  const paths = [
    '/api/v1/cdrs?limit=20',
    '/api/v1/calls',
    `/api/v1/tenants/${TENANT}/sip-domains`,
    `/api/v1/tenants/${TENANT}/ip-patterns/brekeke-3pcc`,
    `/api/v1/tenants/${TENANT}/jwt-keys`,
  ];
  for (const p of paths) {
    const r = http.get(`${BASE}${p}`, params);
    check(r, { 'status 200': (x) => x.status === 200, 'json': (x) => x.status === 200 && x.json() !== null });
  }
  sleep(PAUSE);
}
