//! Hostile SOAP envelopes: XXE (an external entity naming a local file), billion laughs
//! (nested entity expansion), deep nesting, an oversized body. Each gets an Axis-style SOAP
//! fault, no file content leaks, and the process's memory stays flat over many attempts.
use patchbay_tests::*;

const XXE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<getUserProperty><in0>&x;</in0><in1>name</in1></getUserProperty></soapenv:Body></soapenv:Envelope>"#;

fn billion_laughs() -> String {
    let mut dtd = String::from("<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..=9 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        dtd.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    dtd.push(']');
    dtd.push('>');
    format!(
        "<?xml version=\"1.0\"?>{dtd}<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body><getUserProperty><in0>&lol9;</in0><in1>name</in1></getUserProperty></soapenv:Body></soapenv:Envelope>"
    )
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

const FAULT_HEAD: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>"#,
    r#"<soapenv:Fault><faultcode>soapenv:Server.userException</faultcode><faultstring>"#
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_envelopes_get_faults_and_memory_stays_flat() {
    let stack = Stack::start().await;
    // A 64 KiB body cap, so the oversized body is written whole before the gateway answers.
    let gw = stack.gateway(|c| c.limits.max_body_bytes = 64 * 1024);
    let url = format!("{}/pbx/services/UserImpl", gw.base);
    let post = |body: String| {
        gw.http
            .post(&url)
            .header("content-type", "text/xml; charset=utf-8")
            .header("soapaction", "\"\"")
            .body(body)
    };
    let dtd_fault = format!(
        "{FAULT_HEAD}org.xml.sax.SAXParseException: DOCTYPE is not allowed in SOAP messages</faultstring>"
    );
    for body in [XXE.to_string(), billion_laughs()] {
        let r = gw.send(post(body)).await;
        assert_eq!(r.status, 500);
        assert_eq!(r.header("content-type"), "text/xml; charset=utf-8");
        assert!(r.body.starts_with(&dtd_fault), "{}", r.body);
        assert!(!r.body.contains("root:"), "no file content");
    }
    // An entity reference without any DTD is an error too, not an expansion.
    let r = gw
        .send(post(XXE.replace(
            "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
            "",
        )))
        .await;
    assert_eq!(r.status, 500);
    assert!(
        r.body
            .starts_with(&format!("{FAULT_HEAD}org.xml.sax.SAXParseException: ")),
        "{}",
        r.body
    );
    // Deep nesting.
    let deep = format!(
        "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body>{}{}</e:Body></e:Envelope>",
        "<a>".repeat(4_000),
        "</a>".repeat(4_000)
    );
    let r = gw.send(post(deep)).await;
    assert!(r.body.contains("elements nested too deeply"), "{}", r.body);
    // Over the body cap: the same fault form, the connection is not reused.
    let r = gw.send(post("<a>".repeat(30_000))).await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("request too large"), "{}", r.body);

    // Memory: warm up, then many billion-laughs and XXE attempts.
    for _ in 0..20 {
        gw.send(post(billion_laughs())).await;
    }
    let before = rss_kib();
    for _ in 0..300 {
        assert_eq!(gw.send(post(billion_laughs())).await.status, 500);
        assert_eq!(gw.send(post(XXE.to_string())).await.status, 500);
    }
    let after = rss_kib();
    eprintln!("brekeke_hostile_xml: RSS {before} KiB -> {after} KiB over 600 hostile envelopes");
    // One expansion of lol9 would be 3 GB; a leak of 100 KiB per envelope would be 60 MiB. RSS
    // is the whole test process (other scenarios run in parallel and move it by ~20 MiB), so
    // the bound is 64 MiB.
    assert!(
        after < before + 64 * 1024,
        "memory stays flat: {before} KiB -> {after} KiB"
    );
    gw.stop().await;
    stack.stop().await;
}
