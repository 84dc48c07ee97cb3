//! python zeep loads the UserImpl WSDL and manages a user: createUser, setUserProperty,
//! getUserProperty, getUserPropertyNames, deleteUser. The user really appears (it can
//! REGISTER with the password given), changes (store), and disappears (REGISTER refused).
use patchbay_store::Store;
use patchbay_tests::*;

/// zeep resolves the WSDL's `import` of the SOAP encoding namespace by fetching
/// `http://schemas.xmlsoap.org/soap/encoding/` (as it would for a real Axis WSDL). The tests stay
/// on 127.0.0.1, so the script seeds zeep's cache with that schema's `Array` part instead.
const SCRIPT: &str = r###"
import sys, zeep
from zeep.cache import InMemoryCache
from zeep.transports import Transport
SOAPENC = b"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
  xmlns:tns="http://schemas.xmlsoap.org/soap/encoding/"
  targetNamespace="http://schemas.xmlsoap.org/soap/encoding/">
 <xs:attribute name="arrayType" type="xs:string"/>
 <xs:attribute name="offset" type="xs:string"/>
 <xs:complexType name="Array">
  <xs:sequence><xs:any namespace="##any" minOccurs="0" maxOccurs="unbounded" processContents="lax"/></xs:sequence>
  <xs:attribute ref="tns:arrayType"/>
  <xs:attribute ref="tns:offset"/>
  <xs:anyAttribute namespace="##other" processContents="lax"/>
 </xs:complexType>
</xs:schema>"""
cache = InMemoryCache()
cache.add("http://schemas.xmlsoap.org/soap/encoding/", SOAPENC)
c = zeep.Client(sys.argv[1], transport=Transport(cache=cache))
s = c.service
s.createUser("4100", "pw-4100")
s.setUserProperty("4100", "name", "Sales desk")
s.setUserProperty("4100", "ringertime", "25")
print("name=" + s.getUserProperty("4100", "name"))
print("ringertime=" + s.getUserProperty("4100", "ringertime"))
print("names=" + ",".join(s.getUserPropertyNames("4100")))
sys.stdout.flush()
sys.stdin.readline()  # the test registers the new user now
s.deleteUser("4100")
try:
    s.getUserProperty("4100", "name")
except zeep.exceptions.Fault as f:
    print("fault=" + f.message)
"###;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zeep_creates_changes_and_deletes_a_user() {
    let py = zeep_python();
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let wsdl = format!("{}/pbx/services/UserImpl?wsdl", gw.base);
    let mut child = tokio::process::Command::new(&py)
        .args(["-c", SCRIPT, &wsdl])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut first = Vec::new();
    for _ in 0..3 {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), out.next_line())
            .await
            .expect("zeep answers in time")
            .unwrap();
        match line {
            Some(l) => first.push(l),
            None => {
                let o = child.wait_with_output().await.unwrap();
                panic!("zeep ended early: {}", String::from_utf8_lossy(&o.stderr));
            }
        }
    }
    assert_eq!(
        first,
        [
            "name=Sales desk",
            "ringertime=25",
            "names=name,password,pin,ringertime,phoneforward"
        ]
    );
    let u = stack.store.user("demo", "4100").await.unwrap().unwrap();
    assert_eq!(u.display_name, "Sales desk");
    let st = stack
        .store
        .user_settings("demo", "4100")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.ring_secs, 25);
    assert_eq!(
        stack.try_register("4100", "pw-4100", free_port()).await,
        0,
        "the new user registers with the password zeep gave"
    );

    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\n").await.unwrap();
    drop(stdin);
    let last = tokio::time::timeout(std::time::Duration::from_secs(30), out.next_line())
        .await
        .expect("zeep answers in time")
        .unwrap()
        .unwrap_or_default();
    let rest = tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("zeep ends")
        .unwrap();
    assert!(
        rest.status.success(),
        "{}",
        String::from_utf8_lossy(&rest.stderr)
    );
    assert_eq!(
        last, "fault=java.lang.Exception: not found: user 4100",
        "reading a deleted user is a SOAP fault"
    );
    assert!(stack.store.user("demo", "4100").await.unwrap().is_none());
    assert_ne!(
        stack.try_register("4100", "pw-4100", free_port()).await,
        0,
        "the deleted user cannot register"
    );
    gw.stop().await;
    stack.stop().await;
}
