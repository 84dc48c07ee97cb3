//! Ozeki's `AddConfig` / `GetConfig` for SIP extensions: the tenant's app server (on its
//! allowed address list) adds extension 4100 with a password; a SIPp phone registers as 4100
//! with it, and an Ozeki `Call` to 4100 rings that phone, which answers. `GetConfig` shows it
//! (never the password). The same extension again is 703, a bad document 702, an unknown
//! type 701; a user's own credentials may not add extensions (306); the tenant's API key
//! (as `Username`/`Password`) may. `AddConfig` of type `API` makes an API extension.
use patchbay_tests::media::*;
use patchbay_tests::*;

fn config_xml(id: &str, name: &str, password: &str) -> String {
    let xml = format!(
        "<Config knownType=\"SIPExtensionInfo\"><AuthorizationName>{id}</AuthorizationName>\
         <Password>{password}</Password><Username>{name}</Username><Enabled>true</Enabled>\
         <ID>{id}</ID><UserID>{id}</UserID></Config>"
    );
    form_encode(&xml)
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_an_extension_that_registers_and_rings() {
    let stack = Stack::start().await;
    let gw = stack.gateway(|_| {});
    let g = &gw;
    let ozeki = |q: String| async move { g.ozeki(&q).await };
    let code = |body: &str| {
        let i = body.find("<Code>").expect("a code") + 6;
        body[i..i + 3].to_string()
    };
    let add = |id: &str, extra: &str| {
        format!(
            "command=AddConfig&ExtensionType=SIP&ConfigXML={}{extra}",
            config_xml(id, "Front desk", &format!("s3cret-{id}"))
        )
    };
    let r = ozeki(add("4100", "")).await;
    assert_eq!(code(&r), "200", "{r}");
    let r = ozeki(add("4100", "")).await;
    assert_eq!(code(&r), "703", "{r}");
    assert!(r.contains("<Message>Extension configuration already exists</Message>"));
    let r = ozeki(format!(
        "command=AddConfig&ExtensionType=SIP&ConfigXML={}",
        form_encode("<Config><ID>4101</ID><Password>x</Password></Config>")
    ))
    .await;
    assert!(
        r.contains("<Code>702</Code>\r\n  <Message>Invalid configuration for type 'SIP'</Message>"),
        "{r}"
    );
    let r = ozeki(format!(
        "command=AddConfig&ExtensionType=Skype&ConfigXML={}",
        config_xml("4101", "x", "s3cret")
    ))
    .await;
    assert!(
        r.contains(
            "<Code>701</Code>\r\n  <Message>Configuration for type 'Skype' not found</Message>"
        ),
        "{r}"
    );
    let r = ozeki(add("4101", "&Username=4005&Password=web-4005")).await;
    assert_eq!(code(&r), "306", "a user may not add extensions: {r}");
    let r = ozeki(add("4102", "&Username=demo-key&Password=demo-secret")).await;
    assert_eq!(code(&r), "200", "the tenant's API key may: {r}");

    let r = ozeki("command=GetConfig&ExtensionType=SIP&ID=4100".into()).await;
    assert!(
        r.contains(
            "  <Config knownType=\"SIPExtensionInfo\">\r\n    <AuthorizationName>4100</AuthorizationName>\r\n    <Password />\r\n    <Username>Front desk</Username>\r\n    <Enabled>true</Enabled>\r\n    <ID>4100</ID>\r\n    <UserID>4100</UserID>\r\n  </Config>\r\n</Response>"
        ),
        "{r}"
    );
    assert!(!r.contains("s3cret"));

    // An API extension through AddConfig (type API): GetConfig and the native API show it.
    let api = form_encode(
        "<Config knownType=\"APIExtensionInfo\"><ID>9005</ID>\
         <IncomingCallUrl>http://127.0.0.1:9/ivr</IncomingCallUrl></Config>",
    );
    let r = ozeki(format!(
        "command=AddConfig&ExtensionType=API&ConfigXML={api}"
    ))
    .await;
    assert_eq!(code(&r), "200", "{r}");
    let r = ozeki(format!(
        "command=AddConfig&ExtensionType=API&ConfigXML={api}"
    ))
    .await;
    assert_eq!(code(&r), "703", "{r}");
    let r = ozeki("command=GetConfig&ExtensionType=API&ID=9005".into()).await;
    assert!(
        r.contains(
            "  <Config knownType=\"APIExtensionInfo\">\r\n    <ID>9005</ID>\r\n    <IncomingCallUrl>http://127.0.0.1:9/ivr</IncomingCallUrl>\r\n    <CallChangedUrl />\r\n  </Config>\r\n"
        ),
        "{r}"
    );
    let r = gw
        .get_basic(
            "/api/v1/tenants/demo/api-extensions/9005",
            "demo-key",
            "demo-secret",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The new extension registers with its password and rings.
    let p = free_port();
    assert_eq!(stack.try_register("4100", "s3cret-4100", p).await, 0);
    assert_ne!(stack.try_register("4100", "wrong", free_port()).await, 0);
    let rtp = RtpCapture::new().await;
    let phone = Sipp::answering(p, 200, rtp.port());
    let r = ozeki(format!(
        "command=Call&Dialed=4100&ResponseOzML={}",
        form_encode("<Response><Speak>Welcome aboard.</Speak></Response>")
    ))
    .await;
    assert_eq!(code(&r), "200", "{r}");
    assert_eq!(
        phone.wait(20).await,
        0,
        "4100 rang, answered, heard, was hung up"
    );
    assert!(rms(&rtp.audio()) > 300.0, "4100 heard the welcome");
    gw.stop().await;
    stack.stop().await;
}
