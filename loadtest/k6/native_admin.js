// An operator's and an integration's reads through the native API: CDRs (billing scripts),
// the calls list and a queue's live calls (wallboards), a tenant's settings (onboarding
// tools: IP lists, JWT keys, Taridium CTI and IPPS settings), its webhooks' dead letters
// (operators). Every reply 200. The queue polled is
// created once, in setup.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { BASE, BASIC, PAUSE } from './common.js';
export { options } from './common.js';

const TENANT = __ENV.TENANT || 'demo';
const QUEUE = __ENV.QUEUE || 'k6-wallboard';

export function setup() {
  const r = http.put(
    `${BASE}/api/v1/tenants/${TENANT}/queues/${QUEUE}`,
    JSON.stringify({ number: __ENV.QUEUE_NUMBER || '6990', agents: [] }),
    { headers: { Authorization: BASIC, 'Content-Type': 'application/json' } },
  );
  check(r, { 'queue created': (x) => x.status === 200 });
}

export default function () {
  const params = { headers: { Authorization: BASIC }, tags: { api: 'native_admin' } };
  const paths = [
    '/api/v1/cdrs?limit=20',
    '/api/v1/calls',
    `/api/v1/tenants/${TENANT}/queues/${QUEUE}/calls`,
    `/api/v1/tenants/${TENANT}/webhooks/dead`,
    `/api/v1/tenants/${TENANT}/sip-domains`,
    `/api/v1/tenants/${TENANT}/ip-patterns/brekeke-3pcc`,
    `/api/v1/tenants/${TENANT}/jwt-keys`,
    `/api/v1/tenants/${TENANT}/cti`,
    `/api/v1/tenants/${TENANT}/ipps`,
  ];
  for (const p of paths) {
    const r = http.get(`${BASE}${p}`, params);
    check(r, { 'status 200': (x) => x.status === 200, 'json': (x) => x.status === 200 && x.json() !== null });
  }
  sleep(PAUSE);
}
