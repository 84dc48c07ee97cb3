// Click-to-call through Brekeke's SOAP UserImpl.callControl (rpc/encoded, as PHP SoapClient
// sends it): caller first (type 2), the reply's callControlReturn is the session id.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { BASE, FROM, TO, PAUSE } from './common.js';
export { options } from './common.js';

const host = BASE.replace(/^https?:\/\//, '');
const envelope =
  '<?xml version="1.0" encoding="UTF-8"?>' +
  '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" ' +
  `xmlns:ns1="http://${host}/pbx/services/UserImpl" xmlns:xsd="http://www.w3.org/2001/XMLSchema" ` +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" ' +
  'SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:callControl>' +
  `<in0 xsi:type="xsd:string">${FROM}</in0><in1 xsi:type="xsd:string">${FROM}</in1>` +
  '<in2 SOAP-ENC:arrayType="xsd:string[1]" xsi:type="ns1:ArrayOf_xsd_string">' +
  `<item xsi:type="xsd:string">${TO}</item></in2><in3 xsi:type="xsd:string">2</in3>` +
  '</ns1:callControl></SOAP-ENV:Body></SOAP-ENV:Envelope>';

export default function () {
  const r = http.post(`${BASE}/pbx/services/UserImpl`, envelope, {
    headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '""' },
    tags: { api: 'brekeke_soap' },
  });
  check(r, {
    'status 200': (x) => x.status === 200,
    'callControlReturn': (x) => /<callControlReturn xsi:type="xsd:string">[^<]+<\/callControlReturn>/.test(x.body),
  });
  sleep(PAUSE);
}
