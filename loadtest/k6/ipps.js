// Wallboards polling Taridium's IPPS pages (the demo tenant has them on without credentials):
// channel states of the demo extensions and the calls of two queues with country names.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { BASE, PAUSE } from './common.js';
export { options } from './common.js';

export default function () {
  const c = http.get(`${BASE}/ipps/channelinfo.php?channel=SIP/4005,SIP/4007,SIP/4009&useid=1`, { tags: { api: 'ipps_channels' } });
  check(c, {
    'three channel lines': (x) => x.status === 200 && x.body.split('\n').filter((l) => l.startsWith('SIP/')).length === 3,
  });
  const q = http.get(`${BASE}/ipps/queueactive.php?queue_name=sales,support&res_cc=1`, { tags: { api: 'ipps_queues' } });
  check(q, {
    'queue lines': (x) => x.status === 200 && !x.body.startsWith('ERROR'),
  });
  sleep(PAUSE);
}
